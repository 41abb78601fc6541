"""Messages the scheduling services ask for: a move, a cancellation, a seat from the waiting list.

OWNER: helper "reminder-engine". Interface called by the services (keep the names):

    void_links(*, participants: Iterable[SessionParticipant] = (),
               appointments: Iterable[Appointment] = ()) -> None
        every reminder row of these bookings: voided_at set (links stop working); pending ones
        become VOIDED (never sent).
    queue_moved(*, participants=(), appointments=()) -> None
        void_links, then one MOVED row per active booking at its new start.
    queue_seat_offered(participant: SessionParticipant) -> None
        a child booked from the waiting list: one SEAT_OFFERED row.
"""
