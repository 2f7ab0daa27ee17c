"""Platform adapters: translate platform payloads into `TicketEvent`s and plans into API calls."""
