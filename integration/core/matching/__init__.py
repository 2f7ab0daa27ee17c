"""Reading customer text: word lists and phrases (`text`) and the customer's language (`language`)."""
