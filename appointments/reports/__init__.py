"""The reports section: utilisation, attendance, throughput, finance and the notes queue (``registry``)."""
