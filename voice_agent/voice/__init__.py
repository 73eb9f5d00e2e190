"""Voice front end: audio in (WAV, microphone), keypad tones, Vosk recognition, speech out.

Heavy engines (vosk, sounddevice, pyttsx3) are imported lazily by the modules that need them,
so text mode and the store never pay for them.
"""
