"""voice_agent: an offline voice agent for paying bills by phone or at a kiosk.

The path of a call, one package a stage:
  voice/      audio in (files, microphone, phone line), DTMF, end of speech, Vosk -> transcript
  nlu/        transcript -> intent and values (rapidfuzz, per-language data in locales/)
  dialogue/   intent and values -> next step of the call -> replies (prompt keys, no I/O)
  store/      accounts, payments, cases, call records, audit (SQLite through sqlite-utils)
  voice/tts   replies -> speech (espeak-ng / pyttsx3), formatted per language with babel
  cli/        the `voice-agent` command, a thin layer over the above
"""
__version__ = "0.1.0"
