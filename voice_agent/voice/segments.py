"""A reply split into runs by language, so each run is spoken with its own language's voice.

The language menu is one reply that holds the options in every language ("For English press 1.
Para español oprima 2. 한국어는 ... 3번"); one voice reading all of it mangles two of them.
"""
from __future__ import annotations

import re


def spoken_segments(prompts, turn) -> list[tuple[str, str]]:
    """Split a turn's text into (language, text) runs by the languages of its prompts.

    A prompt parameter may be another prompt in another language (the options of the language
    menu); those are rendered on their own so each run can get its own voice. Anything
    unexpected falls back to the whole text in the turn's language.
    """
    whole = [(turn.lang, turn.say)]
    replies = getattr(turn, "replies", ()) or ()
    if prompts is None or not replies:
        return whole
    try:
        from voice_agent.dialogue.events import Reply
        from voice_agent.dialogue.prompts import Prompt
        runs: list[tuple[str, str]] = []

        def add(lang: str, text: str) -> None:
            text = text.strip()
            if not text:
                return
            if runs and runs[-1][0] == lang:
                runs[-1] = (lang, runs[-1][1] + " " + text)
            else:
                runs.append((lang, text))

        for reply in replies:
            lang = reply.lang or turn.lang
            foreign: dict[str, tuple[str, str]] = {}
            params = {"company": prompts.settings.company_name,
                      "official_phone": prompts.settings["official_phone"]}
            for key, value in reply.params.items():
                items = value if isinstance(value, (tuple, list)) else (value,)
                if (items and all(isinstance(v, Prompt) for v in items)
                        and any((v.lang or lang) != lang for v in items)):
                    marks = []
                    for item in items:
                        mark = f"\x00{len(foreign)}\x00"
                        item_lang = item.lang or lang
                        foreign[mark] = (item_lang, prompts.render_one(
                            item_lang, Reply(item.key, item.params)))
                        marks.append(mark)
                    params[key] = " ".join(marks)
                else:
                    params[key] = prompts.format_value(lang, value)
            text = prompts.agree(lang, prompts.text(lang, reply.key).format(**params))
            for piece in re.split("(\x00\\d+\x00)", text):
                if piece in foreign:
                    add(*foreign[piece])
                else:
                    add(lang, piece)
        return runs or whole
    except Exception:        # a prompt shape we do not know: speak the text as one piece
        return whole
