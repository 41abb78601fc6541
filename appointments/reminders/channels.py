"""How a message leaves: e-mail through Django's mail backend, text messages through an SMS backend.

OWNER: helper "messages-channels". Interface used by the others (keep the names):

    class DeliveryError(Exception): .permanent: bool (True: retrying can't help)
    deliver(channel: str, address: str, *, subject: str, body: str) -> str
        sends one message, returns the gateway's message id ("" when it gives none);
        raises DeliveryError.
    BaseSmsBackend / ConsoleSmsBackend / FileSmsBackend / HttpGatewaySmsBackend
    record_sms_opt_out(phone: str) -> int   (STOP: guardians of that phone opted out)
"""
