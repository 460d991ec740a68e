"""The one rule for where a sign-in may send someone next."""

import pytest

from chat_app.services.redirects import safe_next


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "//evil.com",
        "//evil.com/chats",
        "/\\evil.com",
        "\\\\evil.com",
        "/chats\\..\\",
        "https://evil.com",
        "http:/evil.com",
        "javascript:alert(1)",
        "evil.com",
        "chats/1",
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\n/evil.com",
        "/chats\x00",
        "/chats\x7f",
    ],
)
def test_anything_but_a_path_on_this_site_gives_the_default(value):
    assert safe_next(value) == "/"
    assert safe_next(value, default="/login") == "/login"


@pytest.mark.parametrize("value", ["/", "/chats/1?x=y", "/chat/x#end", "/settings?next=%2F%2Fevil.com"])
def test_a_path_on_this_site_is_kept(value):
    assert safe_next(value) == value
