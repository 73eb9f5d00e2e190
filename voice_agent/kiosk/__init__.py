"""The kiosk's touch screen: a local web page with captions, choices, keypad and privacy
between customers (server.py serves it, session.py drives the calls, view.py says what it shows,
run.py starts it all for `voice-agent run`)."""
