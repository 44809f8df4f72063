"""The sandbox path rules and upload tokens, for any input."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duvo_tui.emulator.sandbox_store import (
    PathRefused,
    TokenRefused,
    disk_path,
    normalise,
    sign_upload,
    verify_upload,
)

segments = st.sampled_from(["workspace", "..", ".", "", "a", "b.txt", "etc", "passwd", "\x00", "x\\y", "~", "%2e%2e"])
paths = st.one_of(st.text(max_size=40), st.lists(segments, max_size=6).map(lambda parts: "/" + "/".join(parts)))


@settings(max_examples=300, deadline=None)
@given(paths)
def test_any_path_is_refused_or_stays_inside_the_workspace(tmp_path_factory, path):
    root = tmp_path_factory.getbasetemp() / "root" / "workspace"
    root.mkdir(parents=True, exist_ok=True)
    try:
        clean = normalise(path)
        target = disk_path(root, path)
    except PathRefused:
        return
    assert clean == "/workspace" or clean.startswith("/workspace/")
    assert ".." not in clean.split("/")
    real_root = os.path.realpath(root)
    assert os.path.commonpath([os.path.realpath(target), real_root]) == real_root


@pytest.mark.parametrize(
    "path",
    ["/workspace/../etc", "/etc/passwd", "workspace/a", "/workspace/./a", "/workspace/a\x00", "/workspace\\a", "", "/"],
)
def test_named_escapes_are_refused(path):
    with pytest.raises(PathRefused):
        normalise(path)


def test_a_symlink_out_of_the_workspace_is_refused(tmp_path):
    root = tmp_path / "workspace"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(PathRefused):
        disk_path(root, "/workspace/link/secret.txt")


def test_tokens_verify_only_with_their_key_and_until_they_expire():
    token, _ = sign_upload(b"k" * 32, "sbx_1", "/workspace/a.txt", ttl=60)
    assert verify_upload(b"k" * 32, token) == ("sbx_1", "/workspace/a.txt")
    with pytest.raises(TokenRefused) as wrong_key:
        verify_upload(b"j" * 32, token)
    assert wrong_key.value.code == "invalid_signature"
    expired, _ = sign_upload(b"k" * 32, "sbx_1", "/workspace/a.txt", ttl=-1)
    with pytest.raises(TokenRefused) as late:
        verify_upload(b"k" * 32, expired)
    assert late.value.code == "url_expired"
    for junk in ["", ".", "abc", "abc.def", token.split(".")[0]]:
        with pytest.raises(TokenRefused):
            verify_upload(b"k" * 32, junk)
