"""Shared fixtures and strategies of the random-insertion tests."""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that stress tokenisation: accents (composed and combining),
# Arabic/Hebrew with points and direction marks, Devanagari, Thai, CJK, kana,
# Hangul, emoji with skin tones / ZWJ / variation selectors, joiners, digits.
TRICKY = (
    "aZé\u0301\u0308ßøĳ"
    "مرحبا\u064e\u200fשלום\u05b8\u200e"
    "नमस्ते\u093f"
    "ภาษา\u0e31"
    "我爱你猫々〇ひらカタｶ"
    "한국어"
    "👍🏽👨\u200d👩\u200d👧❤\ufe0f1\ufe0f\u20e3🇫🇷"
    "'’-‐.,:·\u200c\u200d_"
    "0123456789"
    " \t\n\u00a0\u3000"
    '!?;()[]"«»…—'
)

tricky_text = st.text(alphabet=st.sampled_from(TRICKY), max_size=80)
any_text = st.one_of(st.text(max_size=80), tricky_text)

# Insertable words of every kind the rule allows.
VOCAB_WORDS = [
    "really",
    "quite",
    "don't",
    "state-of-the-art",
    "5",
    "3.14",
    "猫",
    "猫咪",
    "été",
    "مرحبا",
]
