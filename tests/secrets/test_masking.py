from __future__ import annotations

import base64
import itertools
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipyard.secrets import masking


def masker_with(*values: str) -> masking.Masker:
    """A masker of every value, however short (the 4-character minimum is tested on its own)."""
    masker = masking.Masker(min_length=1)
    for value in values:
        masker.add(value)
    return masker


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def reference_mask(masker: masking.Masker, text: str) -> str:
    """Brute force: hide every character of every occurrence; each hidden run becomes ***."""
    patterns = {
        pattern
        for value in masker.values
        for pattern in masking.encodings(value)
        if pattern and "\n" not in pattern and "\r" not in pattern
    }
    hidden = [False] * len(text)
    for pattern in patterns:
        for start in range(len(text) - len(pattern) + 1):
            if text.startswith(pattern, start):
                for position in range(start, start + len(pattern)):
                    hidden[position] = True
    pieces, position = [], 0
    while position < len(text):
        if not hidden[position]:
            pieces.append(text[position])
            position += 1
            continue
        pieces.append("***")
        while position < len(text) and hidden[position]:
            position += 1
    return "".join(pieces)


# -- GitHub's own expectations (actions/runner HostContextL0) --------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("123Password123!123", "123***123"),
        ("password123", "password123"),
        ('123Pass\\"word\\"123!123', "123***123"),
        ("123Pass%20word%20123%21123", "123***123"),
        ("123Pass&lt;word&gt;123!123", "123***123"),
        ("123Pass''word''123!123", "123***123"),
        (b64(":Password123!"), "OlBh***"),
        (b64("a:Password123!"), "YTpQ***"),
        (b64("ab:Password123!"), "YWI6***"),
        (b64("abc:Password123!"), "YWJjOlBh***"),
        (b64("abcd:Password123!"), "YWJjZDpQ***"),
        (b64("abcde:Password123!"), "YWJjZGU6***"),
        ("123Password123!!123", "123***123"),
        ("123short123", "123short123"),
        ('123"short"123', "123***123"),
    ],
)
def test_githubs_default_masker_cases(text: str, masked: str) -> None:
    masker = masker_with(
        "Password123!",
        'Pass"word"123!',
        "Pass word 123!",
        "Pass<word>123!",
        "Pass'word'123!",
        '"Password123!!"',
        '"short"',
    )
    assert masker.mask(text) == masked


@pytest.mark.parametrize(
    ("secret", "raw", "masked"),
    [
        ("secret&secret&secret", "secret&secret&\x1b[96msecret\x1b[0m", "***\x1b[96m***\x1b[0m"),
        ("secret&secret+secret", "secret&\x1b[96msecret+secret\x1b[0m", "***\x1b[96m***\x1b[0m"),
        ("secret+secret&secret", "secret+secret&\x1b[96msecret\x1b[0m", "***\x1b[96m***\x1b[0m"),
        (
            "secret&secret&+secretsecret",
            "secret&secret&+\x1b[96ms\x1b[0mecretsecret",
            "***\x1b[96ms\x1b[0m***",
        ),
        ("secret&+secret&secret", "secret&+\x1b[96ms\x1b[0mecret&secret", "***\x1b[96ms\x1b[0m***"),
        (
            "secret&+secret&+secret",
            "secret&+\x1b[96ms\x1b[0mecret&+secret",
            "***\x1b[96ms\x1b[0m***",
        ),
        ("secret&secret&+", "secret&secret&+\x1b[96m\x1b[0m", "***\x1b[96m\x1b[0m"),
    ],
)
def test_githubs_powershell_section_cases(secret: str, raw: str, masked: str) -> None:
    assert masker_with(secret).mask(raw) == masked


# -- values ----------------------------------------------------------------------------------------


def test_blank_values_are_ignored() -> None:
    masker = masker_with("", " ", "\t\n ", "\r\n")
    assert masker.values == frozenset()
    assert masker.mask("a b\tc") == "a b\tc"


def test_a_multi_line_value_masks_each_of_its_lines() -> None:
    value = "first line\n  second\r\nthird  \n\n"
    masker = masker_with(value)
    assert masker.values == {value, "first line", "second", "third"}
    assert masker.mask(value) == "***\n  ***\r\n***  \n\n"
    assert masker.mask("a first line b; second=third") == "a *** b; ***=***"


def test_encodings_are_githubs_list() -> None:
    assert list(masking.encodings("a\"b'c<d>&e f")) == [
        "a\"b'c<d>&e f",
        "YSJiJ2M8ZD4mZSBm",  # base64 of the UTF-8 bytes
        "ImInYzxkPiZlIGY=",  # ... without the first byte
        "YidjPGQ+JmUgZg==",  # ... without the first two
        "a\\\"b'c<d>&e f",  # command line
        "a\"b''c<d>&e f",  # expression string
        "a\\\"b'c<d>&e f",  # JSON string
        "a%22b%27c%3Cd%3E%26e%20f",  # URI data
        "a&quot;b&apos;c&lt;d&gt;&amp;e f",  # XML
        "a\"b'c<d>&",  # the part before '&' (the part after is too short)
    ]
    assert list(masking.encodings('"quoted-val"'))[-1] == "quoted-val"
    json_and_uri = list(masking.encodings("ä ~-_.\u2028\t\x01"))[6:8]
    assert json_and_uri == ["ä ~-_.\\u2028\\t\\u0001", "%C3%A4%20~-_.%E2%80%A8%09%01"]


def test_encoded_forms_of_a_value_are_masked() -> None:
    masker = masker_with("p@ss:w0rd")
    url = "url=https://u:p%40ss%3Aw0rd@host"  # shipyard:allow-secret
    assert masker.mask(url) == "url=https://u:***@host"
    assert masker.mask(f"auth {b64('user:p@ss:w0rd')}") == "auth dXNlcjpw***"


def test_adding_a_value_twice_changes_nothing() -> None:
    masker = masker_with("token-123")
    masker.add("token-123")
    assert masker.values == {"token-123"}
    assert masker.mask("token-123") == "***"


# -- occurrences -----------------------------------------------------------------------------------


def test_every_occurrence_is_replaced() -> None:
    assert masker_with("hunter2").mask("hunter2 and hunter2!") == "*** and ***!"


def test_the_longest_value_at_a_position_wins() -> None:
    masker = masker_with("secret", "secret-long")
    assert masker.mask("my secret-long! my secret-") == "my ***! my ***-"


def test_overlapping_and_touching_occurrences_become_one_mask() -> None:
    assert masker_with("abcd", "cdef").mask("xxabcdefyy") == "xx***yy"
    assert masker_with("ab", "cd").mask("xabcdx") == "x***x"
    assert masker_with("aba").mask("ababa") == "***"
    assert masker_with("secret").mask("secretsecret") == "***"


def test_a_secret_never_matches_across_a_line_break() -> None:
    masker = masker_with("top\nsecret")
    assert masker.mask("top secret") == "*** ***"
    assert masker.mask("topsecret") == "***"  # two lines' occurrences touching: one run
    assert masker.mask('"top\\nsecret"') == '"***"'  # its JSON form holds no line break


def test_many_nested_values_fall_back_to_a_plain_search() -> None:
    masker = masker_with(*("a" * size for size in range(1, 150)))
    assert masker.mask("xaaay" + "a" * 300) == "x***y***"


def test_a_megabyte_log_with_50_secrets_is_masked_completely() -> None:
    """The speed is a figure of bench/bench_masking.py; here, only that nothing leaks."""
    generator = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_!@"
    secrets = ["".join(generator.choices(alphabet, k=generator.randint(12, 40))) for _ in range(50)]
    masker = masker_with(*secrets)
    words = ["INFO", "building", "module", "passed", "error:", "/usr/lib", "=>", "ok", "the"]
    lines = []
    for _ in range(17_000):
        line = " ".join(generator.choices(words, k=10))
        lines.append(line + " " + generator.choice(secrets) if generator.random() < 0.01 else line)
    log = "\n".join(lines)
    assert len(log) > 1_000_000
    masked = masker.mask(log)
    assert not any(secret in masked for secret in secrets)
    assert masked.count("***") == sum(1 for line in lines if not line.endswith(tuple(words)))


# -- streams ---------------------------------------------------------------------------------------


def stream(masker: masking.Masker, chunks: list[str]) -> str:
    streamer = masking.StreamMasker(masker)
    return "".join(streamer.feed(chunk) for chunk in chunks) + streamer.flush()


def test_a_secret_split_at_every_offset_is_masked() -> None:
    masker = masker_with("s3cr3t-value")
    text = "before s3cr3t-value after\n"
    for cut in range(len(text) + 1):
        assert stream(masker, [text[:cut], text[cut:]]) == "before *** after\n"


def test_two_secrets_split_across_three_chunks() -> None:
    masker = masker_with("alpha-key", "beta-key")
    text = "alpha-key and beta-key\n"
    for first in range(len(text) + 1):
        for second in range(first, len(text) + 1):
            chunks = [text[:first], text[first:second], text[second:]]
            assert stream(masker, chunks) == "*** and ***\n"


def test_overlapping_secrets_across_a_chunk_boundary_are_one_mask() -> None:
    masker = masker_with("abcd", "cdef")
    for cut in range(9):
        assert stream(masker, ["xxabcdefyy"[:cut], "xxabcdefyy"[cut:]]) == "xx***yy"


def test_only_a_possible_secret_start_is_held_back() -> None:
    streamer = masking.StreamMasker(masker_with("secretvalue"))
    assert streamer.feed("a secr") == "a "
    assert streamer.feed("et\n") == "secret\n"
    assert streamer.feed("done secretval") == "done "
    assert streamer.feed("ue") == ""  # a secret that ends the text may still touch the next one
    assert streamer.feed("secretvalue.") == "***."
    assert streamer.flush() == ""


def test_complete_lines_are_never_held_back() -> None:
    streamer = masking.StreamMasker(masker_with("line two secret"))
    assert streamer.feed("line one\nline two\n") == "line one\nline two\n"
    assert streamer.feed("line two") == ""
    assert streamer.flush() == "line two"


def test_a_secret_added_mid_stream_masks_what_follows() -> None:
    masker = masker_with("zz-top")
    streamer = masking.StreamMasker(masker)
    assert streamer.feed("hello zz-") == "hello "
    masker.add("zz-new-secret")
    assert streamer.feed("new-secret\nand zz-new-secret\n") == "***\nand ***\n"
    assert streamer.flush() == ""


# -- properties ------------------------------------------------------------------------------------

secret_text = st.text(alphabet="ab& x\"'", min_size=1, max_size=7).filter(lambda s: s.strip())
# Up to 300 characters: long texts take the one-search-per-pattern path, short ones the regex.
log_text = st.text(alphabet="ab& x\"'*\n=", max_size=300)


@settings(max_examples=300)
@given(secrets=st.lists(secret_text, max_size=3), text=log_text)
def test_mask_equals_a_brute_force_reference(secrets: list[str], text: str) -> None:
    masker = masker_with(*secrets)
    assert masker.mask(text) == reference_mask(masker, text)


@settings(max_examples=100)
@given(
    secrets=st.lists(secret_text, min_size=1, max_size=3),
    text=st.text(alphabet="ab& x\"'*\n=", min_size=150, max_size=400),
)
def test_long_texts_mask_as_the_brute_force_reference_too(secrets: list[str], text: str) -> None:
    masker = masker_with(*secrets)
    assert masker.mask(text) == reference_mask(masker, text)


@settings(max_examples=300)
@given(secrets=st.lists(secret_text, min_size=1, max_size=3), text=log_text)
def test_masked_text_never_contains_a_secret(secrets: list[str], text: str) -> None:
    masked = masker_with(*secrets).mask(text)
    assert not any(secret in masked for secret in secrets)


@settings(max_examples=300)
@given(
    secrets=st.lists(secret_text, min_size=1, max_size=3),
    text=log_text,
    cuts=st.lists(st.integers(min_value=0, max_value=300), max_size=8),
)
def test_streamed_chunks_mask_as_the_whole_text(
    secrets: list[str], text: str, cuts: list[int]
) -> None:
    masker = masker_with(*secrets)
    bounds = sorted({0, len(text), *(cut for cut in cuts if cut <= len(text))})
    chunks = [text[start:end] for start, end in itertools.pairwise(bounds)]
    streamed = stream(masker, chunks)
    assert streamed == masker.mask(text)
    assert not any(secret in streamed for secret in secrets)
