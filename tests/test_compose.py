"""Static checks of the production stack: docker-compose.yml and the Dockerfile.

No Docker is needed: the files are parsed and checked against each other and against the code,
so a new environment variable, a renamed service or a clashing port fails here, not at deploy.
"""

import json
import re
import shlex
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from codec_server import DEFAULT_ENCODE_ROLE, DEFAULT_REQUIRED_ROLE, DEFAULT_ROLE_CLAIM

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
MAKE_SECRETS = ROOT / "deploy" / "make-secrets.sh"

# The code the image runs: every environment variable it reads must be set by the stack.
SOURCE_DIRS = ("models", "activities", "workflows", "service", "cli")
SOURCE_FILES = ("worker.py", "starter.py")
# Services running the application image, which need the application's environment.
APP_SERVICES = ("worker", "app")
TEMPORAL_IMAGES = ("temporalio/auto-setup", "temporalio/server")
TEMPORAL_FRONTEND_PORT = 7233

ENV_READ = re.compile(
    r"""(?:os\.(?:environ\.get\(|environ\[|getenv\()|\bsecret\()\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""
)
SECRETS_DIR = "/run/secrets/"
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt}, ${VAR+alt}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Resolve compose ${...} as with an empty environment: defaults apply, others are a mark."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if op in (":-", "-"):
            return str(arg)
        return f"<{name}>"

    return INTERPOLATION.sub(one, value.replace("$$", "$"))


def load_compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE.name} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), f"{COMPOSE_FILE.name} is not a mapping"
    assert isinstance(data.get("services"), dict), f"{COMPOSE_FILE.name} has no services"
    return data


COMPOSE = load_compose() if COMPOSE_FILE.is_file() else {"services": {}}
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def environment(service: str) -> dict[str, str]:
    """A service's environment, from either the mapping or the list form."""
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def sets(env: dict[str, str], name: str) -> bool:
    """The service gives `name`: itself, or NAME_FILE (a secret file, models/secret_files.py)."""
    return name in env or f"{name}_FILE" in env


def secrets_of(service: str) -> set[str]:
    """The compose secrets mounted in a service (short or long form)."""
    entries = SERVICES[service].get("secrets") or []
    return {str(e["source"]) if isinstance(e, dict) else str(e) for e in entries}


def depends_on(service: str) -> list[str]:
    deps = SERVICES[service].get("depends_on") or []
    return list(deps) if isinstance(deps, dict | list) else [deps]


def split_image(image: str) -> tuple[str, str | None]:
    """'repo/name:tag@sha256:...' -> ('repo/name', 'tag' or None)."""
    image = interpolate(image).split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = image.rsplit(":", 1)
        return name, tag
    return image, None


def published_ports(service: str) -> list[tuple[str, int, str]]:
    """(host IP, host port, protocol) for every port the service publishes on the host."""
    out: list[tuple[str, int, str]] = []
    for entry in SERVICES[service].get("ports") or []:
        if isinstance(entry, dict):
            if entry.get("published") is None:
                continue
            ip = interpolate(str(entry.get("host_ip", "0.0.0.0")))
            host, protocol = interpolate(str(entry["published"])), entry.get("protocol", "tcp")
        else:
            spec, _, protocol = interpolate(str(entry)).partition("/")
            parts = spec.rsplit(":", 2)
            if len(parts) == 1:  # container port only: Docker picks a free host port
                continue
            ip, host = (parts[0], parts[1]) if len(parts) == 3 else ("0.0.0.0", parts[0])
            if not host:
                continue
        first, _, last = host.partition("-")
        for port in range(int(first), int(last or first) + 1):
            out.append((ip.strip("[]") or "0.0.0.0", port, protocol or "tcp"))
    return out


def container_ports(service: str) -> set[int]:
    """Ports the service listens on inside the network (targets of `ports`, and `expose`)."""
    ports: set[int] = set()
    for entry in SERVICES[service].get("ports") or []:
        if isinstance(entry, dict):
            target = str(entry["target"])
        else:
            target = interpolate(str(entry)).partition("/")[0].rsplit(":", 1)[-1]
        first, _, last = target.partition("-")
        ports.update(range(int(first), int(last or first) + 1))
    for entry in SERVICES[service].get("expose") or []:
        ports.add(int(str(entry).partition("/")[0]))
    return ports


def temporal_services() -> list[str]:
    return [
        name
        for name, svc in SERVICES.items()
        if split_image(str(svc.get("image", "")))[0].endswith(TEMPORAL_IMAGES)
    ]


def source_files() -> list[Path]:
    files = [path for d in SOURCE_DIRS for path in sorted((ROOT / d).rglob("*.py"))]
    return files + [ROOT / name for name in SOURCE_FILES if (ROOT / name).is_file()]


def env_vars_read() -> dict[str, list[str]]:
    """Every variable the application code reads, with the files that read it."""
    found: dict[str, list[str]] = {}
    for path in source_files():
        for name in ENV_READ.findall(path.read_text()):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def uses_temporal_envconfig() -> list[str]:
    """Files connecting through temporalio.envconfig, which reads TEMPORAL_* from the env."""
    return [
        str(path.relative_to(ROOT))
        for path in source_files()
        if "load_client_connect_config" in path.read_text()
    ]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def command_words(args: str) -> list[str]:
    """The words of a CMD/ENTRYPOINT/command, in exec (JSON) or shell form."""
    args = args.strip()
    if args.startswith("["):
        return [str(word) for word in json.loads(args)]
    return shlex.split(args)


# --------------------------------------------------------------------------------------------


def test_compose_file_parses() -> None:
    load_compose()
    for name in ("postgresql", "temporal", "temporal-ui", *APP_SERVICES):
        assert name in SERVICES, f"service {name!r} is missing from {COMPOSE_FILE.name}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_image_is_pinned_or_built(service: str) -> None:
    svc = SERVICES[service]
    assert "image" in svc or "build" in svc, f"service {service!r} has neither image nor build"
    if "image" not in svc:
        return
    tag = split_image(str(svc["image"]))[1]
    has_digest = "@sha256:" in str(svc["image"])
    assert tag or has_digest or "build" in svc, (
        f"service {service!r}: image {svc['image']!r} has no tag: pin a version"
    )
    assert tag != "latest", f"service {service!r}: image {svc['image']!r} uses :latest"
    assert "build" in svc or not (tag or "").startswith("<"), (
        f"service {service!r}: image {svc['image']!r} has a tag with no default"
    )


def test_no_latest_anywhere() -> None:
    for path in (COMPOSE_FILE, DOCKERFILE):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not re.search(r":latest\b", line), f"{path.name}:{number} uses :latest: {line}"
    for instruction, args in dockerfile_instructions():
        if instruction == "FROM":
            image = args.split()[0]
            assert split_image(image)[1] or "@sha256:" in image, (
                f"Dockerfile: base image {image!r} has no tag: pin a version"
            )


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_covers_every_variable_the_code_reads(service: str) -> None:
    env = environment(service)
    read = env_vars_read()
    assert read, "found no os.environ reads in the code: has the scan pattern gone stale?"
    temporal_ok = {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"} <= env.keys()
    for name, files in sorted(read.items()):
        if name.startswith("TEMPORAL_") and temporal_ok:
            continue
        assert sets(env, name), (
            f"service {service!r} does not set {name}, which {', '.join(sorted(set(files)))} reads"
        )
    for path in uses_temporal_envconfig():
        for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"):
            assert name in env, (
                f"service {service!r} does not set {name}, which {path} reads via envconfig"
            )


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_points_at_the_stack(service: str) -> None:
    env = environment(service)
    temporal = temporal_services()
    host = interpolate(env.get("TEMPORAL_ADDRESS", "")).rpartition(":")[0]
    assert host in temporal, (
        f"service {service!r}: TEMPORAL_ADDRESS={env.get('TEMPORAL_ADDRESS')!r} "
        f"is not a Temporal service ({temporal})"
    )
    # The URL holds the password: a secret file, whose example make-secrets.sh writes, with
    # the service's own login (issue 16: the worker's; the console's and CLI's least privilege).
    wanted = DATABASE_LOGINS[service]
    assert env.get("VCS_DATABASE_URL_FILE") == f"{SECRETS_DIR}{wanted}", (
        f"service {service!r}: the case database URL is not the secret {wanted}"
    )
    assert wanted in secrets_of(service)
    example = re.search(r"postgresql\+psycopg://%s:%s@([^:/]+):\d+/(\w+)", MAKE_SECRETS.read_text())
    assert example, "deploy/make-secrets.sh does not write the case database URL"
    db_host, db_name = example.group(1), example.group(2)
    assert (db_host, db_name) == ("postgresql", "vcs"), (
        f"deploy/make-secrets.sh: the case database is {db_host}/{db_name}, not postgresql/vcs"
    )
    assert db_host in depends_on(service), (
        f"service {service!r} uses database {db_host!r} but does not depend on it"
    )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_depends_on_names_defined_services(service: str) -> None:
    for dependency in depends_on(service):
        assert dependency in SERVICES, (
            f"service {service!r} depends on {dependency!r}, which is not defined"
        )
        assert dependency != service, f"service {service!r} depends on itself"


def test_ui_points_at_the_temporal_frontend() -> None:
    temporal = temporal_services()
    assert temporal, "no service runs a temporalio/auto-setup or temporalio/server image"
    address = interpolate(environment("temporal-ui").get("TEMPORAL_ADDRESS", ""))
    host, _, port = address.rpartition(":")
    assert host in temporal, (
        f"service 'temporal-ui': TEMPORAL_ADDRESS={address!r} names {host!r}, "
        f"not a Temporal service ({temporal})"
    )
    assert port.isdigit() and int(port) == TEMPORAL_FRONTEND_PORT, (
        f"service 'temporal-ui': TEMPORAL_ADDRESS={address!r} is not the frontend port "
        f"{TEMPORAL_FRONTEND_PORT}"
    )
    listening = container_ports(host) or {TEMPORAL_FRONTEND_PORT}
    assert int(port) in listening, (
        f"service 'temporal-ui': TEMPORAL_ADDRESS port {port} is not one service {host!r} "
        f"listens on ({sorted(listening)})"
    )
    assert "TEMPORAL_CORS_ORIGINS" in environment("temporal-ui"), (
        "service 'temporal-ui' does not set TEMPORAL_CORS_ORIGINS"
    )


def test_published_ports_do_not_collide() -> None:
    seen: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for service in SERVICES:
        for ip, port, protocol in published_ports(service):
            for other_service, other_ip in seen.get((port, protocol), []):
                clash = ip == other_ip or "0.0.0.0" in (ip, other_ip)
                assert not clash, (
                    f"service {service!r} publishes {ip}:{port}/{protocol}, "
                    f"already published by service {other_service!r} on {other_ip}"
                )
            seen.setdefault((port, protocol), []).append((service, ip))


def test_temporal_waits_for_a_healthy_database() -> None:
    for service in temporal_services():
        deps = SERVICES[service].get("depends_on") or {}
        assert isinstance(deps, dict), f"service {service!r}: depends_on has no conditions"
        for dependency, spec in deps.items():
            if "healthcheck" in SERVICES.get(dependency, {}):
                assert (spec or {}).get("condition") == "service_healthy", (
                    f"service {service!r} should wait for {dependency!r} to be healthy"
                )


def test_database_init_script_is_mounted() -> None:
    volumes = [str(v) for v in SERVICES["postgresql"].get("volumes") or []]
    mounts = [v.split(":")[0] for v in volumes if "/docker-entrypoint-initdb.d" in v]
    assert mounts, "service 'postgresql' does not mount an init dir on /docker-entrypoint-initdb.d"
    for mount in mounts:
        directory = (ROOT / mount).resolve()
        assert directory.is_dir(), f"service 'postgresql': init dir {mount} does not exist"
        assert any(directory.glob("*.sh")) or any(directory.glob("*.sql")), (
            f"service 'postgresql': init dir {mount} has no .sh or .sql script"
        )


def test_dockerfile_runs_the_worker() -> None:
    assert DOCKERFILE.is_file(), "Dockerfile is missing"
    instructions = dockerfile_instructions()
    cmds = [args for instruction, args in instructions if instruction == "CMD"]
    assert cmds, "Dockerfile has no CMD"
    words = command_words(cmds[-1])
    scripts = [word for word in words if word.endswith(".py")]
    assert scripts == ["worker.py"], f"Dockerfile CMD {words} does not run worker.py"
    assert (ROOT / "worker.py").is_file(), "Dockerfile CMD runs worker.py, which does not exist"
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), (
        "Dockerfile does not switch to a non-root USER"
    )


def test_dockerfile_copies_sources_that_exist() -> None:
    for instruction, args in dockerfile_instructions():
        if instruction not in ("COPY", "ADD") or "--from" in args:
            continue
        sources = [word for word in shlex.split(args) if not word.startswith("--")][:-1]
        for source in sources:
            if source == "constraints.txt":  # generated at release; may not exist in a checkout
                continue
            assert (ROOT / source).exists(), f"Dockerfile {instruction} {source}: no such path"


def local_packages_imported(entry: Path) -> set[str]:
    """The repository's packages an entry point imports, directly or through each other."""
    found: set[str] = set()
    files = [entry]
    while files:
        text = files.pop().read_text(encoding="utf-8")
        for name in re.findall(r"^\s*(?:from|import) ([A-Za-z_]\w*)", text, re.MULTILINE):
            if name not in found and (ROOT / name / "__init__.py").is_file():
                found.add(name)
                files += sorted((ROOT / name).glob("*.py"))
    return found


def test_dockerfile_copies_every_package_the_image_runs() -> None:
    """starter.py runs cli/ over service/: an image without them could not run a command."""
    copied = {
        word.rstrip("/")
        for instruction, args in dockerfile_instructions()
        if instruction == "COPY" and "--from" not in args
        for word in shlex.split(args)[:-1]
    }
    for entry in ("worker.py", "starter.py"):
        missing = local_packages_imported(ROOT / entry) - copied
        assert not missing, f"{entry} imports {sorted(missing)}, which the Dockerfile leaves out"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_service_commands_run_existing_scripts(service: str) -> None:
    command = SERVICES[service].get("command")
    assert command, f"service {service!r} has no command"
    words = command if isinstance(command, list) else shlex.split(str(command))
    scripts = [str(word) for word in words if str(word).endswith(".py")]
    assert scripts, f"service {service!r}: command {words} runs no Python script"
    for script in scripts:
        assert (ROOT / script).is_file(), (
            f"service {service!r}: command runs {script}, which does not exist"
        )


# ---- the case database's migrations ---------------------------------------------------------

MIGRATE_SERVICE = "migrate"
# The code the migrate service runs, whose environment variables it must be given.
MIGRATE_SOURCES = ("models/migrate.py", "models/db.py", "migrations/env.py")


def service_command(service: str) -> list[str]:
    command = SERVICES[service].get("command") or []
    return [str(word) for word in command] if isinstance(command, list) else shlex.split(command)


def test_migrate_is_a_one_shot_run_of_the_worker_image() -> None:
    assert MIGRATE_SERVICE in SERVICES, f"service {MIGRATE_SERVICE!r} is missing"
    migrate, worker = SERVICES[MIGRATE_SERVICE], SERVICES["worker"]
    for key in ("image", "build"):
        assert migrate.get(key) == worker.get(key), (
            f"service 'migrate': {key} {migrate.get(key)!r} is not the worker's "
            f"{worker.get(key)!r}: the migrations must ship with the code that needs them"
        )
    words = service_command(MIGRATE_SERVICE)
    assert words == ["python", "-m", "models.migrate"], (
        f"service 'migrate': command {words} is not python -m models.migrate"
    )
    module = ROOT / "models" / "migrate.py"
    assert module.is_file(), "service 'migrate' runs models.migrate, which does not exist"
    assert 'if __name__ == "__main__":' in module.read_text(), "models/migrate.py has no main"
    assert str(migrate.get("restart", "no")) == "no", (
        f"service 'migrate' has restart {migrate.get('restart')!r}: a one-shot must not restart"
    )


def test_migrate_uses_the_workers_database() -> None:
    """The owner's login migrates (and grants the roles their privileges); every URL
    make-secrets.sh writes names the same database (`url` in deploy/make-secrets.sh)."""
    url = environment(MIGRATE_SERVICE).get("VCS_DATABASE_URL_FILE")
    assert url == f"{SECRETS_DIR}{DATABASE_LOGINS[MIGRATE_SERVICE]}", (
        "service 'migrate' does not log in as the owner"
    )
    made = MAKE_SECRETS.read_text()
    for login in set(DATABASE_LOGINS.values()):
        assert re.search(rf"^url {login} \w+ \w+$", made, re.M), f"make-secrets.sh: {login}"
    for path in MIGRATE_SOURCES:
        for name in ENV_READ.findall((ROOT / path).read_text()):
            assert sets(environment(MIGRATE_SERVICE), name), (
                f"service 'migrate' does not set {name}, which {path} reads"
            )
    deps = SERVICES[MIGRATE_SERVICE].get("depends_on") or {}
    assert isinstance(deps, dict), "service 'migrate': depends_on has no conditions"
    assert "postgresql" in deps, "service 'migrate' does not wait for its database"
    assert (deps["postgresql"] or {}).get("condition") == "service_healthy", (
        "service 'migrate' should wait for 'postgresql' to be healthy"
    )


def test_worker_starts_after_the_migrations() -> None:
    deps = SERVICES["worker"].get("depends_on") or {}
    assert isinstance(deps, dict), "service 'worker': depends_on has no conditions"
    assert MIGRATE_SERVICE in deps, "service 'worker' does not depend on 'migrate'"
    assert (deps[MIGRATE_SERVICE] or {}).get("condition") == "service_completed_successfully", (
        "service 'worker' should wait for 'migrate' to complete successfully"
    )


# ---- the codec server: decrypts Temporal payloads for the Web UI and the temporal CLI ---------

CODEC_SERVICE = "codec-server"
# The code the codec server runs, whose environment variables it must be given.
CODEC_SOURCES = ("codec_server.py", "models/codec.py")
# Which tokens the codec server trusts: never a default, so never someone else's issuer.
CODEC_OIDC = ("VCS_CODEC_OIDC_ISSUER", "VCS_CODEC_OIDC_AUDIENCE", "VCS_CODEC_OIDC_JWKS_URL")
# Every service that encrypts or decrypts payloads or sealed database texts.
KEY_HOLDERS = (*APP_SERVICES, CODEC_SERVICE, "console")
BREAK_GLASS_TOKEN = "VCS_CODEC_TOKEN"
UI_SERVICE = "temporal-ui"
GATEWAY = "ops-gateway"
CONSOLE = "console"
CADDYFILE = ROOT / "deploy" / "gateway" / "Caddyfile"
UI_ROLE_SCOPE = "roles"


def required(value: str, name: str | None = None) -> bool:
    """`${NAME:?message}`: compose refuses to start without it, and there is no default."""
    variable = name or "[A-Za-z_][A-Za-z0-9_]*"
    return re.fullmatch(rf"\$\{{{variable}:\?[^}}]*\}}", value) is not None


def documented_value(value: str) -> str:
    """What a setting will be: its literal value, its `${NAME:-default}`, or for a required
    `${NAME:?message}` the example the message gives (the first URL in it)."""
    match = INTERPOLATION.fullmatch(value)
    if match is None:
        return interpolate(value)
    op, arg = match.group(2), match.group(3) or ""
    if op in (":?", "?"):
        example = re.search(r"[a-z][a-z0-9+.-]*://[^\s)]+[^\s).,]", arg)
        return example.group(0) if example else ""
    return interpolate(value)


def test_codec_server_runs_codec_server_py_from_the_worker_image() -> None:
    assert CODEC_SERVICE in SERVICES, f"service {CODEC_SERVICE!r} is missing"
    codec, worker = SERVICES[CODEC_SERVICE], SERVICES["worker"]
    assert codec.get("image") == worker.get("image"), (
        f"service {CODEC_SERVICE!r}: image {codec.get('image')!r} is not the worker's "
        f"{worker.get('image')!r}: the codec must be the code that encrypted the payloads"
    )
    command = codec.get("command") or []
    words = [str(w) for w in command] if isinstance(command, list) else shlex.split(command)
    assert [w for w in words if w.endswith(".py")] == ["codec_server.py"], (
        f"service {CODEC_SERVICE!r}: command {words} does not run codec_server.py"
    )
    assert (ROOT / "codec_server.py").is_file(), "codec_server.py does not exist"


def test_codec_server_environment_covers_every_variable_it_reads() -> None:
    env = environment(CODEC_SERVICE)
    for path in CODEC_SOURCES:
        for name in ENV_READ.findall((ROOT / path).read_text()):
            assert sets(env, name), (
                f"service {CODEC_SERVICE!r} does not set {name}, which {path} reads"
            )
    for name in (*CODEC_OIDC, "VCS_CODEC_ACTIVE_KEY"):
        assert required(env.get(name, "")), (
            f"service {CODEC_SERVICE!r}: {name}={env.get(name)!r} is not ${{...:?...}}: "
            "a trust setting must be given, never defaulted"
        )
    # The keys and the break-glass token are secret files (an empty token file: refused).
    for name, secret_name in (("VCS_CODEC_KEYS", "codec_keys"), (BREAK_GLASS_TOKEN, "codec_token")):
        assert env.get(f"{name}_FILE") == f"{SECRETS_DIR}{secret_name}", (
            f"service {CODEC_SERVICE!r}: {name} is not read from the secret {secret_name}"
        )
        assert name not in env, f"service {CODEC_SERVICE!r} sets {name} in its environment"
        assert secret_name in secrets_of(CODEC_SERVICE)
    # The defaults of the role settings are the code's, so the README's roles are the ones checked.
    assert interpolate(env.get("VCS_CODEC_OIDC_ROLE_CLAIM", "")) == DEFAULT_ROLE_CLAIM
    assert interpolate(env.get("VCS_CODEC_OIDC_REQUIRED_ROLE", "")) == DEFAULT_REQUIRED_ROLE
    assert interpolate(env.get("VCS_CODEC_OIDC_ENCODE_ROLE", "")) == DEFAULT_ENCODE_ROLE


def test_codec_keys_are_the_same_wherever_payloads_are_encrypted_or_decrypted() -> None:
    for service in KEY_HOLDERS:
        env = environment(service)
        assert env.get("VCS_CODEC_KEYS_FILE") == f"{SECRETS_DIR}codec_keys", (
            f"service {service!r} does not read the payload keys from the secret codec_keys"
        )
        assert "codec_keys" in secrets_of(service), f"service {service!r} lacks codec_keys"
    actives = {service: environment(service).get("VCS_CODEC_ACTIVE_KEY") for service in KEY_HOLDERS}
    assert len(set(actives.values())) == 1, f"VCS_CODEC_ACTIVE_KEY differs: {actives}"
    assert required(str(actives["worker"]), "VCS_CODEC_ACTIVE_KEY")


def ops_public_url() -> str:
    """The example the stack gives for VCS_OPS_PUBLIC_URL (its first use: the UI's origins)."""
    return documented_value(environment(UI_SERVICE).get("TEMPORAL_CORS_ORIGINS", ""))


def under_ops_url(value: str, path: str) -> bool:
    """`${VCS_OPS_PUBLIC_URL:?...}<path>`: compose refuses to start without the base URL."""
    return re.fullmatch(rf"\$\{{VCS_OPS_PUBLIC_URL:\?[^}}]*\}}{re.escape(path)}", value) is not None


def test_codec_server_is_reached_through_the_gateway_on_the_uis_origin() -> None:
    """TLS in front of the codec server (issue 16 item 6): ops-gateway serves it at /codec on
    the UI's origin, so the browser's Referer names the workflow page that asked."""
    codec_env, ui_env = environment(CODEC_SERVICE), environment(UI_SERVICE)
    port = int(interpolate(codec_env.get("VCS_CODEC_PORT", "8081")))
    assert interpolate(codec_env.get("VCS_CODEC_HOST", "127.0.0.1")) == "0.0.0.0", (
        f"service {CODEC_SERVICE!r} must listen on 0.0.0.0 to be reached by the gateway"
    )
    assert port in container_ports(CODEC_SERVICE)
    assert not published_ports(CODEC_SERVICE), (
        f"service {CODEC_SERVICE!r} publishes a port: it speaks plain HTTP, so only the "
        "gateway may reach it"
    )
    caddyfile = CADDYFILE.read_text()
    assert re.search(
        rf"handle_path /codec/\* \{{\s*reverse_proxy {CODEC_SERVICE}:{port}\s*\}}", caddyfile
    ), f"{CADDYFILE.name} does not serve {CODEC_SERVICE}:{port} at /codec"
    assert "Referrer-Policy same-origin" in caddyfile
    assert ui_env.get("TEMPORAL_CODEC_PASS_ACCESS_TOKEN") == "true", (
        f"service {UI_SERVICE!r} does not pass the access token to the codec server"
    )
    assert under_ops_url(ui_env.get("TEMPORAL_CODEC_ENDPOINT", ""), "/codec"), (
        f"service {UI_SERVICE!r}: TEMPORAL_CODEC_ENDPOINT is not VCS_OPS_PUBLIC_URL/codec"
    )
    for env, name in ((codec_env, "VCS_CODEC_CORS_ORIGINS"), (ui_env, "TEMPORAL_CORS_ORIGINS")):
        origin = INTERPOLATION.fullmatch(env.get(name, ""))
        assert origin and origin.group(1) == "VCS_OPS_PUBLIC_URL" and origin.group(2) == ":?", (
            f"{name}={env.get(name)!r} is not the UI's origin, ${{VCS_OPS_PUBLIC_URL:?...}}"
        )
    assert CODEC_SERVICE in depends_on(GATEWAY) and UI_SERVICE in depends_on(GATEWAY)


def test_web_ui_and_codec_server_are_served_over_https() -> None:
    """The UI forwards a user's access token only to an https:// codec endpoint: the gateway's
    address, and whatever example the stack gives for it, must be https, on a port the
    gateway publishes, where it terminates TLS with the secret certificate."""
    example = urlsplit(ops_public_url())
    assert example.scheme == "https" and example.hostname, (
        f"VCS_OPS_PUBLIC_URL example {example.geturl()!r} is not an https:// URL"
    )
    gateway_ports = {host_port for _, host_port, _ in published_ports(GATEWAY)}
    assert example.port in gateway_ports, (
        f"VCS_OPS_PUBLIC_URL example {example.geturl()!r} is not on a port {GATEWAY!r} publishes"
    )
    caddyfile = CADDYFILE.read_text()
    for port in gateway_ports:
        site = re.search(rf"^:{port} \{{\n\ttls (\S+) (\S+)$", caddyfile, re.M)
        assert site, f"{CADDYFILE.name}: port {port} does not terminate TLS"
        for path in site.groups():
            assert path.startswith(SECRETS_DIR) and path.removeprefix(SECRETS_DIR) in secrets_of(
                GATEWAY
            ), f"{CADDYFILE.name}: {path} is not a secret the gateway mounts"


def test_web_ui_signs_users_in_with_the_issuer_the_codec_server_trusts() -> None:
    ui_env, codec_env = environment(UI_SERVICE), environment(CODEC_SERVICE)
    assert ui_env.get("TEMPORAL_AUTH_ENABLED") == "true", f"{UI_SERVICE!r} has no sign-in"
    assert ui_env.get("TEMPORAL_AUTH_TYPE", "oidc") == "oidc"
    for name in ("TEMPORAL_AUTH_PROVIDER_URL", "TEMPORAL_AUTH_CLIENT_ID"):
        assert ui_env.get(name), f"service {UI_SERVICE!r} does not set {name}"
    # The client secret: read from its secret file inside the container, never a compose value.
    assert "TEMPORAL_AUTH_CLIENT_SECRET" not in ui_env
    entrypoint = " ".join(str(word) for word in SERVICES[UI_SERVICE].get("entrypoint") or [])
    assert (
        'TEMPORAL_AUTH_CLIENT_SECRET="$$(cat /run/secrets/ui_oidc_client_secret)"' in entrypoint
    ), f"service {UI_SERVICE!r} does not read its client secret from the secret file"
    assert "ui_oidc_client_secret" in secrets_of(UI_SERVICE)
    # The tokens the UI forwards are the issuer's: the codec server must trust that issuer.
    assert ui_env["TEMPORAL_AUTH_PROVIDER_URL"] == codec_env.get("VCS_CODEC_OIDC_ISSUER"), (
        f"service {UI_SERVICE!r} signs in with {ui_env['TEMPORAL_AUTH_PROVIDER_URL']!r} but "
        f"{CODEC_SERVICE!r} trusts {codec_env.get('VCS_CODEC_OIDC_ISSUER')!r}"
    )
    # ...and the console signs in with the same identity provider.
    assert environment(CONSOLE).get("VCS_OIDC_ISSUER") == ui_env["TEMPORAL_AUTH_PROVIDER_URL"]
    assert under_ops_url(ui_env.get("TEMPORAL_AUTH_CALLBACK_URL", ""), "/auth/sso/callback"), (
        f"service {UI_SERVICE!r}: TEMPORAL_AUTH_CALLBACK_URL is not VCS_OPS_PUBLIC_URL's "
        "/auth/sso/callback"
    )
    scopes = [s.strip() for s in interpolate(ui_env.get("TEMPORAL_AUTH_SCOPES", "")).split(",")]
    assert "openid" in scopes, f"service {UI_SERVICE!r}: TEMPORAL_AUTH_SCOPES {scopes} lacks openid"
    assert UI_ROLE_SCOPE in scopes, (
        f"service {UI_SERVICE!r}: TEMPORAL_AUTH_SCOPES {scopes} does not ask for the user's "
        f"roles ({UI_ROLE_SCOPE!r}), so access tokens would not carry the codec role"
    )


def test_documented_value_reads_defaults_and_examples() -> None:
    assert documented_value("${X:-https://a.example:8443}") == "https://a.example:8443"
    assert documented_value("${X:?set X to a URL, e.g. https://codec.example}") == (
        "https://codec.example"
    )
    assert documented_value("${X:?set X (e.g. http://localhost:8081)}") == "http://localhost:8081"
    assert documented_value("${X:?set X}") == ""
    assert documented_value("https://literal.example") == "https://literal.example"


# ---- issue 16: who can reach what, at every layer ---------------------------------------------

DEPRECATED_IMAGES = ("temporalio/auto-setup",)
TEMPORAL_SERVICE = "temporal"
# A variable whose value would be a secret: only ever a file under /run/secrets.
SECRET_NAME = re.compile(
    r"(PASSWORD|PWD|SECRET|TOKEN|API_KEY|CODEC_KEYS|SESSION_KEY|DATABASE_URL|_KEY)$"
)
# A key id, not a key; a switch to forward the user's token, not a token.
NOT_SECRET = {"VCS_CODEC_ACTIVE_KEY", "TEMPORAL_CODEC_PASS_ACCESS_TOKEN"}
POSTGRES_INIT = ROOT / "deploy" / "postgres-init"
TEMPORAL_ROLE_SQL = POSTGRES_INIT / "00-temporal.sql"
UI_WRITE_ACTIONS_OFF = (
    "TEMPORAL_DISABLE_WRITE_ACTIONS",
    "TEMPORAL_WORKFLOW_TERMINATE_DISABLED",
    "TEMPORAL_WORKFLOW_CANCEL_DISABLED",
    "TEMPORAL_WORKFLOW_SIGNAL_DISABLED",
    "TEMPORAL_WORKFLOW_UPDATE_DISABLED",
    "TEMPORAL_WORKFLOW_RESET_DISABLED",
    "TEMPORAL_BATCH_ACTIONS_DISABLED",
    "TEMPORAL_START_WORKFLOW_DISABLED",
)
# The services that talk to Temporal's frontend, and the certificate each presents.
TEMPORAL_CLIENTS = {
    "worker": "temporal_worker",
    "app": "temporal_app",
    "console": "temporal_app",  # its forms act through the service layer, as the CLI does
    "search-attributes": "temporal_ops",
}


def one_shot(service: str) -> bool:
    """A job that runs and exits (set-up, migrations) or a tool run by hand."""
    svc = SERVICES[service]
    return str(svc.get("restart", "no")) == "no" or "tools" in (svc.get("profiles") or [])


def test_every_long_running_service_has_a_healthcheck() -> None:
    for service, svc in SERVICES.items():
        if one_shot(service):
            continue
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), (
            f"service {service!r} has no healthcheck"
        )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_dependency_waits_for_health_or_completion(service: str) -> None:
    deps = SERVICES[service].get("depends_on") or {}
    assert isinstance(deps, dict), f"service {service!r}: depends_on has no conditions"
    for dependency, spec in deps.items():
        wanted = "service_completed_successfully" if one_shot(dependency) else "service_healthy"
        assert (spec or {}).get("condition") == wanted, (
            f"service {service!r} should wait for {dependency!r}: condition {wanted}"
        )


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_secret_in_the_environment(service: str) -> None:
    """Secrets are compose `secrets:` files: an environment variable holds at most the path
    of one (NAME_FILE=/run/secrets/...), which the service mounts."""
    mounted = secrets_of(service)
    for name, value in environment(service).items():
        base = name.removesuffix("_FILE")
        for var in INTERPOLATION.findall(value):
            assert not SECRET_NAME.search(var[0]) or var[0] in NOT_SECRET, (
                f"service {service!r}: {name} takes ${{{var[0]}}} from the environment: "
                "make it a secret file"
            )
        assert not re.search(r"://[^/@\s:]+:[^/@\s]+@", value), (
            f"service {service!r}: {name} holds a URL with a password"
        )
        if value.startswith(SECRETS_DIR):
            secret_name = value.removeprefix(SECRETS_DIR)
            assert secret_name in mounted, (
                f"service {service!r}: {name} names {value}, a secret it does not mount"
            )
            continue
        assert not SECRET_NAME.search(base) or name in NOT_SECRET, (
            f"service {service!r}: {name}={value!r} looks like a secret in the environment: "
            f"use {base}_FILE={SECRETS_DIR}<name>"
        )


def test_every_secret_is_declared_and_made_by_make_secrets(tmp_path: Path) -> None:
    declared = COMPOSE.get("secrets") or {}
    for service in SERVICES:
        for secret_name in secrets_of(service):
            assert secret_name in declared, f"service {service!r} mounts undeclared {secret_name}"
    made = tmp_path / "secrets"
    subprocess.run([str(MAKE_SECRETS), str(made)], check=True, capture_output=True, timeout=120)
    assert oct(made.stat().st_mode & 0o777) == "0o700"
    for secret_name, spec in declared.items():
        path = Path(str(spec["file"]))
        assert path.parent == Path("secrets"), f"secret {secret_name}: {path} not in ./secrets/"
        assert (made / path.name).is_file(), f"deploy/make-secrets.sh does not make {path.name}"
    assert "secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    assert "secrets/" in (ROOT / ".dockerignore").read_text().splitlines()


def test_the_made_certificates_give_mutual_tls_and_refuse_a_stranger(tmp_path: Path) -> None:
    """What the stack's TLS settings rely on: the server's certificate is for `temporal`, and
    it accepts a client certificate from the stack's CA only."""
    made = tmp_path / "secrets"
    subprocess.run([str(MAKE_SECRETS), str(made)], check=True, capture_output=True, timeout=120)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(made / "temporal_server.pem", made / "temporal_server.key")
    server_ctx.load_verify_locations(made / "temporal_ca.pem")
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[str] = []

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    # The peer's subject is ((("commonName", "vcs-worker"),),): read it as text.
                    subject = repr((tls.getpeercert() or {}).get("subject"))
                    names = re.findall(r"\('commonName', '([^']*)'\)", subject)
                    accepted.extend(names)
            except (ssl.SSLError, OSError):
                accepted.append("refused")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def connect(cert: str | None) -> None:
        ctx = ssl.create_default_context(cafile=made / "temporal_ca.pem")
        if cert:
            ctx.load_cert_chain(made / f"{cert}.pem", made / f"{cert}.key")
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            ctx.wrap_socket(raw, server_hostname="temporal") as tls,
        ):
            tls.recv(1)  # the server's verdict on our certificate (TLS 1.3: after handshake)

    connect("temporal_worker")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        connect(None)
    thread.join(10)
    listener.close()
    assert accepted == ["vcs-worker", "refused"]


def test_no_deprecated_image() -> None:
    for service, svc in SERVICES.items():
        name = split_image(str(svc.get("image", "")))[0]
        assert not name.endswith(DEPRECATED_IMAGES), (
            f"service {service!r} runs {name}, which is deprecated and not for production"
        )
    assert split_image(str(SERVICES[TEMPORAL_SERVICE]["image"]))[0] == "temporalio/server"


def test_temporal_schema_is_set_up_by_an_admin_tools_one_shot() -> None:
    jobs = [
        name
        for name, svc in SERVICES.items()
        if split_image(str(svc.get("image", "")))[0] == "temporalio/admin-tools" and one_shot(name)
    ]
    schema_jobs = [
        job
        for job in jobs
        if "setup-schema.sh" in " ".join(str(w) for w in SERVICES[job].get("entrypoint") or [])
    ]
    assert schema_jobs, "no admin-tools one-shot sets up Temporal's schema"
    script = (ROOT / "deploy" / "temporal" / "setup-schema.sh").read_text()
    assert "temporal-sql-tool" in script and "update-schema" in script
    deps = SERVICES[TEMPORAL_SERVICE].get("depends_on") or {}
    assert deps.get(schema_jobs[0], {}).get("condition") == "service_completed_successfully"
    # Same version as the server: the schema is the one this server expects.
    versions = {split_image(str(SERVICES[s]["image"]))[1] for s in [*jobs, TEMPORAL_SERVICE]}
    assert len(versions) == 1, f"admin-tools and server versions differ: {versions}"


def test_temporal_authorizes_every_call_with_the_identity_providers_tokens() -> None:
    env = environment(TEMPORAL_SERVICE)
    assert env.get("TEMPORAL_AUTH_AUTHORIZER") == "default"
    assert env.get("TEMPORAL_AUTH_CLAIM_MAPPER") == "default"
    assert env.get("TEMPORAL_JWT_PERMISSIONS_CLAIM") == "permissions"
    assert required(env.get("TEMPORAL_JWT_KEY_SOURCE1", ""), "VCS_OIDC_JWKS_URL"), (
        "Temporal does not take its signing keys from the identity provider's JWKS"
    )
    # The same identity provider as the codec server (and so the Web UI and the console).
    assert env["TEMPORAL_JWT_KEY_SOURCE1"] == environment(CODEC_SERVICE)["VCS_CODEC_OIDC_JWKS_URL"]
    # Temporal's own system workers go through the internal frontend, not the authorizer.
    assert env.get("USE_INTERNAL_FRONTEND") == "true"


def test_temporal_requires_mutual_tls_from_every_client() -> None:
    env = environment(TEMPORAL_SERVICE)
    mounted = secrets_of(TEMPORAL_SERVICE)
    assert env.get("TEMPORAL_TLS_REQUIRE_CLIENT_AUTH") == "true"
    for name in (
        "TEMPORAL_TLS_FRONTEND_CERT",
        "TEMPORAL_TLS_FRONTEND_KEY",
        "TEMPORAL_TLS_CLIENT1_CA_CERT",
        "TEMPORAL_TLS_SERVER_CERT",
        "TEMPORAL_TLS_SERVER_KEY",
        "TEMPORAL_TLS_SERVER_CA_CERT",
    ):
        value = env.get(name, "")
        assert value.startswith(SECRETS_DIR) and value.removeprefix(SECRETS_DIR) in mounted, (
            f"service 'temporal': {name}={value!r} is not a secret it mounts"
        )
    for service, cert in TEMPORAL_CLIENTS.items():
        client = environment(service)
        assert client.get("TEMPORAL_TLS_SERVER_CA_CERT_PATH") == f"{SECRETS_DIR}temporal_ca.pem"
        assert client.get("TEMPORAL_TLS_SERVER_NAME") == TEMPORAL_SERVICE
        assert client.get("TEMPORAL_TLS_CLIENT_CERT_PATH") == f"{SECRETS_DIR}{cert}.pem"
        assert client.get("TEMPORAL_TLS_CLIENT_KEY_PATH") == f"{SECRETS_DIR}{cert}.key"
        assert client.get("TEMPORAL_API_KEY_FILE", "").startswith(SECRETS_DIR), (
            f"service {service!r} presents no token to Temporal's authorizer"
        )
    ui = environment(UI_SERVICE)
    assert (ui.get("TEMPORAL_TLS_CERT"), ui.get("TEMPORAL_TLS_KEY")) == (
        f"{SECRETS_DIR}temporal_ui.pem",
        f"{SECRETS_DIR}temporal_ui.key",
    )
    assert ui.get("TEMPORAL_TLS_ENABLE_HOST_VERIFICATION") == "true"
    # Every service that reaches Temporal's frontend is one of these.
    talkers = {
        s
        for s in SERVICES
        if environment(s).get("TEMPORAL_ADDRESS", "").startswith(f"{TEMPORAL_SERVICE}:")
    }
    assert talkers <= {*TEMPORAL_CLIENTS, UI_SERVICE, "temporal-namespace"}, talkers


def test_web_ui_write_actions_are_off() -> None:
    env = environment(UI_SERVICE)
    for name in UI_WRITE_ACTIONS_OFF:
        assert env.get(name) == "true", f"service {UI_SERVICE!r}: {name} is not true"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_ports_are_published_on_loopback_only(service: str) -> None:
    """Nothing is published to the world unless the operator says so (VCS_PUBLISH_ADDR, for
    the TLS gateway only); Temporal and the database are on loopback or not published."""
    for ip, port, _ in published_ports(service):
        assert ip == "127.0.0.1", f"service {service!r} publishes {ip}:{port}"
    for entry in SERVICES[service].get("ports") or []:
        if "VCS_PUBLISH_ADDR" in str(entry):
            assert service == GATEWAY, f"service {service!r} may be published beyond loopback"


def test_temporals_database_role_is_not_a_superuser() -> None:
    env = environment(TEMPORAL_SERVICE)
    role = env.get("POSTGRES_USER")
    assert role == "temporal", f"Temporal connects as {role!r}, not its own role temporal"
    assert environment("postgresql").get("POSTGRES_USER") != role
    assert environment("temporal-schema").get("SQL_USER") == role
    sql = TEMPORAL_ROLE_SQL.read_text()
    create = re.search(r"CREATE ROLE temporal ([^%]+)PASSWORD", sql)
    assert create, f"{TEMPORAL_ROLE_SQL.name} does not create the role temporal"
    for attribute in ("NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION", "NOBYPASSRLS"):
        assert attribute in create.group(1), f"the role temporal is not {attribute}"
    # The password from its secret file, never the environment.
    assert '`cat "$TEMPORAL_DB_PASSWORD_FILE"`' in sql
    assert environment("postgresql").get("TEMPORAL_DB_PASSWORD_FILE") == (
        f"{SECRETS_DIR}temporal_db_password"
    )


def test_dockerfile_puts_no_secret_in_the_image() -> None:
    for instruction, args in dockerfile_instructions():
        if instruction in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", args) or [args.split()[0]]:
                assert not SECRET_NAME.search(name), f"Dockerfile {instruction} {name}: a secret"
        if instruction in ("COPY", "ADD") and "--from" not in args:
            for source in shlex.split(args)[:-1]:
                assert not source.startswith(("secrets", "data", ".env")), (
                    f"Dockerfile {instruction} {source}: copies secrets or local data"
                )
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for path in ("secrets/", "data/", ".env"):
        assert path in ignored, f".dockerignore does not keep {path} out of the build context"


# Which login each service has to the case database (issue 16 item 2; README "Database roles").
DATABASE_LOGINS = {
    "worker": "vcs_worker_database_url",
    "console": "vcs_app_database_url",
    "app": "vcs_app_database_url",
    MIGRATE_SERVICE: "vcs_database_url",
}


def test_each_service_logs_in_to_the_case_database_with_its_own_role() -> None:
    """Only the one-shot migrate job has the owner's login; the worker has its own (it may not
    rewrite the audit trail), the console and the CLI the least privileged; only the worker
    holds the key that seals the audit trail."""
    for service, login in DATABASE_LOGINS.items():
        assert environment(service).get("VCS_DATABASE_URL_FILE") == f"{SECRETS_DIR}{login}"
        assert login in secrets_of(service), service
    owners = [name for name in SERVICES if "vcs_database_url" in secrets_of(name)]
    assert owners == [MIGRATE_SERVICE]
    sealers = [name for name in SERVICES if "audit_hmac_key" in secrets_of(name)]
    assert sealers == ["worker"]
    assert environment("worker").get("VCS_AUDIT_HMAC_KEY_FILE") == f"{SECRETS_DIR}audit_hmac_key"
