"""Option resolution: command line > WASMPI_* environment > wasmpi.toml > defaults (no compiler,
no mpiexec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wasmpi.config import OPTIONS, ExecOptions, Options, resolve
from wasmpi.errors import UsageError

TOML = 'mem-limit = "1G"\nfuel = 1000\nstrict = true\nworkdir = "/toml"\ndir = ["a", "b"]\n'


def test_precedence_cli_env_file_default(tmp_path: Path) -> None:
    (tmp_path / "wasmpi.toml").write_text(TOML)
    env = {"WASMPI_FUEL": "2000", "WASMPI_WORKDIR": "/env"}
    o = resolve({"workdir": "/cli"}, environ=env, cwd=tmp_path)
    assert (o.workdir, o.source("workdir")) == ("/cli", "cli")
    assert (o.fuel, o.source("fuel")) == (2000, "env WASMPI_FUEL")
    assert (o.mem_limit, o.source("mem_limit")) == (1 << 30, "wasmpi.toml")
    assert (o.strict, o.source("strict")) == (True, "wasmpi.toml")
    assert (o.dir, o.source("dir")) == (("a", "b"), "wasmpi.toml")
    assert (o.openat2, o.source("openat2")) == (True, "default")
    # each layer alone
    assert resolve({}, environ={}, use_file=False).fuel is None
    assert resolve({}, environ={}, cwd=tmp_path).fuel == 1000
    assert resolve({}, environ=env, cwd=tmp_path).fuel == 2000
    assert resolve({"fuel": "3000"}, environ=env, cwd=tmp_path).fuel == 3000


def test_config_file_option_and_no_file(tmp_path: Path) -> None:
    f = tmp_path / "other.toml"
    f.write_text("fuel = 7\n")
    o = resolve({}, environ={}, config=f, cwd=tmp_path)
    assert o.fuel == 7 and o.source("fuel") == str(f)
    (tmp_path / "wasmpi.toml").write_text("fuel = 8\n")
    assert resolve({}, environ={}, cwd=tmp_path, use_file=False).fuel is None


@pytest.mark.parametrize("text, size", [("65536", 65536), ("512K", 512 << 10), ("64M", 64 << 20),
                                        ("2g", 2 << 30), ("1GB", 1 << 30)])
def test_sizes(text: str, size: int) -> None:
    assert resolve({"mem_limit": text}, environ={}, use_file=False).mem_limit == size


def test_inverted_env_and_bool_values() -> None:
    assert resolve({}, environ={"WASMPI_NO_OPENAT2": "1"}, use_file=False).openat2 is False
    assert resolve({}, environ={"WASMPI_NO_OPENAT2": "0"}, use_file=False).openat2 is True
    assert resolve({"openat2": True}, environ={"WASMPI_NO_OPENAT2": "1"},
                   use_file=False).openat2 is True


def test_cache_dir_and_toolchain_defaults(tmp_path: Path) -> None:
    o = resolve({}, environ={"XDG_CACHE_HOME": str(tmp_path)}, use_file=False)
    assert o.cache_dir == tmp_path / "wasmpi" and o.toolchain == "zig"
    o = resolve({}, environ={"WASI_SDK_PATH": str(tmp_path)}, use_file=False)
    assert o.toolchain == "clang" and o.wasi_sdk == tmp_path


@pytest.mark.parametrize("where, value, named", [
    ("cli", {"mem_limit": "12Q"}, "--mem-limit 12Q"),
    ("cli", {"fuel": "-5"}, "--fuel -5"),
    ("cli", {"workdir": "rel"}, "--workdir rel"),
    ("env", {"WASMPI_FUEL": "lots"}, "env WASMPI_FUEL='lots'"),
    ("env", {"WASMPI_STRICT": "maybe"}, "env WASMPI_STRICT='maybe'"),
    ("env", {"WASMPI_TOOLCHAIN": "gcc"}, "env WASMPI_TOOLCHAIN='gcc'"),
    ("env", {"WASMPI_MEM_LIMIT": "8G"}, "env WASMPI_MEM_LIMIT='8G'"),
    ("toml", "fuel = 1.5\n", "wasmpi.toml: fuel = 1.5"),
    ("toml", 'strict = "perhaps"\n', "wasmpi.toml: strict = 'perhaps'"),
    ("toml", "dir = 3\n", "wasmpi.toml: dir = 3"),
    ("toml", "colour = 1\n", "wasmpi.toml: unknown option 'colour'"),
    ("toml", "fuel = [\n", "wasmpi.toml: invalid TOML"),
])
def test_bad_values_name_option_and_source(tmp_path: Path, where: str, value: object,
                                           named: str) -> None:
    with pytest.raises(UsageError) as e:
        if where == "cli":
            assert isinstance(value, dict)
            resolve(value, environ={}, use_file=False)
        elif where == "env":
            assert isinstance(value, dict)
            resolve({}, environ=value, use_file=False)
        else:
            (tmp_path / "wasmpi.toml").write_text(str(value))
            resolve({}, environ={}, cwd=tmp_path)
    assert str(e.value).startswith(named), str(e.value)
    assert e.value.exit_code == 64 and "\n" not in str(e.value)


def test_forwarded_flags_resolve_to_the_same_options(tmp_path: Path) -> None:
    """What a rank resolves from the parent's flags equals the parent's options, whatever the
    rank's own environment says."""
    import argparse

    from wasmpi import config

    parent = resolve({"dir": [f"{tmp_path}::/w"], "fuel": "99", "strict": True},
                     environ={"WASMPI_MEM_LIMIT": "1M", "WASMPI_NO_OPENAT2": "1"},
                     use_file=False)
    p = argparse.ArgumentParser()
    config.add_arguments(p)
    ns = p.parse_args(parent.forwarded())
    cli = {k[4:]: v for k, v in vars(ns).items() if k.startswith("opt_")}
    rank = resolve(cli, environ={"WASMPI_FUEL": "1", "WASMPI_STRICT": "0"},
                   use_file=not ns.no_config)
    assert rank == parent


def test_parse_forwarded_equals_argparse(tmp_path: Path) -> None:
    """A rank reads the parent's flags without argparse (config.parse_forwarded): the same
    values, the module and the guest's arguments (which may look like options); anything not in
    the forwarded form is left to argparse."""
    from wasmpi import config

    parent = resolve({"dir": [f"{tmp_path}::/w", f"{tmp_path}::/r:ro"], "fuel": "99",
                      "strict": True, "cwasm": str(tmp_path / "m.cwasm"), "env": ["A=1"]},
                     environ={"WASMPI_NO_OPENAT2": "1"}, use_file=False)
    words = [*parent.forwarded(), "/m/app.wasm", "--strict", "-n", "3"]
    fast = config.parse_forwarded(words)
    assert fast is not None
    cli, rest = fast
    assert rest == ["/m/app.wasm", "--strict", "-n", "3"]
    assert resolve(cli, environ={"WASMPI_FUEL": "1"}, use_file=False) == parent
    for odd in (["--strict", "m.wasm"], ["--no-config", "--config", "x.toml", "m.wasm"],
                ["--no-config", "--fuel=3", "m.wasm"], ["--no-config", "--help"],
                ["--no-config", "--fuel"], ["--no-config", "--strict"]):
        assert config.parse_forwarded(odd) is None, odd


def test_spawned_children_do_not_get_the_parents_code(tmp_path: Path) -> None:
    opts = ExecOptions(Path("a.wasm"), (), resolve({"cwasm": str(tmp_path / "a.cwasm")},
                                                   environ={}, use_file=False))
    assert "--cwasm" in opts.forwarded() and "--cwasm" not in opts.spawn_forwarded()


def test_every_option_is_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for o in OPTIONS:
        if not o.hidden:
            assert f"`{o.key}`" in readme, o.key


def test_workdir_default_and_checks(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    one = ExecOptions(Path("m.wasm"), (), Options(dir=(f"{tmp_path}::/work",)))
    assert one.sandbox().workdir == "/work"
    two = ExecOptions(Path("m.wasm"), (), Options(dir=(f"{tmp_path}::/a", f"{tmp_path}::/b")))
    assert two.sandbox().workdir is None
    sub = one.with_options(workdir="/work/sub")
    assert sub.sandbox().workdir == "/work/sub"
    for bad in ("/elsewhere", "/work/../etc", "/work/missing", "/workshop"):
        with pytest.raises(UsageError, match="--workdir"):
            one.with_options(workdir=bad).sandbox()
