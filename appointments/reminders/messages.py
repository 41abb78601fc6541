"""The words of a message: a template's body filled in for one family, and its length.

OWNER: helper "messages-channels". Interface used by the others (keep the names):

    ChildBooking(first_name: str, starts_at: datetime (aware), clinic_name: str)
    RenderedMessage(subject: str, body: str)
    render_message(template: MessageTemplate | None, *, purpose: str, channel: str,
                   language: str, tenant: Tenant, children: Sequence[ChildBooking],
                   link: str) -> RenderedMessage
        template None -> the built-in default words for that purpose and channel.
    message_length(text: str) -> MessageLength(characters: int, segments: int, unicode: bool)
"""
