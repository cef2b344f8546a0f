"""Static checks of the production stack: docker-compose.yml and the Dockerfile.

No Docker is needed: the files are parsed and checked against each other and against the code,
so a new environment variable, a renamed service or a clashing port fails here, not at deploy.
"""

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from codec_server import DEFAULT_REQUIRED_ROLE, DEFAULT_ROLE_CLAIM

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# The code the image runs: every environment variable it reads must be set by the stack.
SOURCE_DIRS = ("models", "activities", "workflows", "service", "cli")
SOURCE_FILES = ("worker.py", "starter.py")
# Services running the application image, which need the application's environment.
APP_SERVICES = ("worker", "app")
TEMPORAL_IMAGES = ("temporalio/auto-setup", "temporalio/server")
TEMPORAL_FRONTEND_PORT = 7233

ENV_READ = re.compile(
    r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""
)
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
        assert name in env, (
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
    url = interpolate(env.get("VCS_DATABASE_URL", ""))
    match = re.match(r"postgresql\+psycopg://[^@/]+@([^:/]+)(?::(\d+))?/(\w+)$", url)
    assert match, (
        f"service {service!r}: VCS_DATABASE_URL={env.get('VCS_DATABASE_URL')!r} "
        "is not postgresql+psycopg://user:password@host:port/database"
    )
    db_host, db_name = match.group(1), match.group(3)
    assert db_host in SERVICES, (
        f"service {service!r}: VCS_DATABASE_URL host {db_host!r} is not a service"
    )
    assert db_name == "vcs", (
        f"service {service!r}: VCS_DATABASE_URL database is {db_name!r}, not the case database vcs"
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
    url = environment(MIGRATE_SERVICE).get("VCS_DATABASE_URL")
    assert url, "service 'migrate' does not set VCS_DATABASE_URL"
    assert url == environment("worker").get("VCS_DATABASE_URL"), (
        "service 'migrate' migrates another database than the worker's VCS_DATABASE_URL"
    )
    for path in MIGRATE_SOURCES:
        for name in ENV_READ.findall((ROOT / path).read_text()):
            assert name in environment(MIGRATE_SERVICE), (
                f"service 'migrate' does not set {name}, which {path} reads"
            )
    deps = SERVICES[MIGRATE_SERVICE].get("depends_on") or {}
    assert isinstance(deps, dict), "service 'migrate': depends_on has no conditions"
    db_host = re.match(r"[^@]+@([^:/]+)", interpolate(url))
    assert db_host and db_host.group(1) in deps, "service 'migrate' does not wait for its database"
    assert (deps[db_host.group(1)] or {}).get("condition") == "service_healthy", (
        f"service 'migrate' should wait for {db_host.group(1)!r} to be healthy"
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
CODEC_KEYS = ("VCS_CODEC_KEYS", "VCS_CODEC_ACTIVE_KEY")
# Which tokens the codec server trusts: never a default, so never someone else's issuer.
CODEC_OIDC = ("VCS_CODEC_OIDC_ISSUER", "VCS_CODEC_OIDC_AUDIENCE", "VCS_CODEC_OIDC_JWKS_URL")
CODEC_SECRETS = (*CODEC_KEYS, *CODEC_OIDC)
BREAK_GLASS_TOKEN = "VCS_CODEC_TOKEN"
UI_SERVICE = "temporal-ui"
UI_SECRETS = ("TEMPORAL_AUTH_CLIENT_SECRET",)
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
            assert name in env, f"service {CODEC_SERVICE!r} does not set {name}, which {path} reads"
    for name in CODEC_SECRETS:
        assert required(env.get(name, "")), (
            f"service {CODEC_SERVICE!r}: {name}={env.get(name)!r} is not ${{...:?...}}: "
            "a secret or a trust setting must be given, never defaulted"
        )
    # The break-glass token is optional (unset: refused), but never defaulted to a value.
    token = env.get(BREAK_GLASS_TOKEN)
    assert token in (f"${{{BREAK_GLASS_TOKEN}:-}}", f"${{{BREAK_GLASS_TOKEN}}}"), (
        f"service {CODEC_SERVICE!r}: {BREAK_GLASS_TOKEN}={token!r} should be passed through "
        f"as ${{{BREAK_GLASS_TOKEN}:-}}: set by the operator or not at all"
    )
    # The defaults of the role settings are the code's, so the README's role is the one checked.
    assert interpolate(env.get("VCS_CODEC_OIDC_ROLE_CLAIM", "")) == DEFAULT_ROLE_CLAIM
    assert interpolate(env.get("VCS_CODEC_OIDC_REQUIRED_ROLE", "")) == DEFAULT_REQUIRED_ROLE


def test_codec_keys_are_the_same_wherever_payloads_are_encrypted_or_decrypted() -> None:
    for name in CODEC_KEYS:
        values = {
            service: environment(service).get(name) for service in (*APP_SERVICES, CODEC_SERVICE)
        }
        assert len(set(values.values())) == 1, f"{name} differs between services: {values}"
        assert required(str(values["worker"]), name), f"{name} is not ${{{name}:?...}}"


def test_codec_server_is_reachable_from_the_web_ui() -> None:
    codec_env, ui_env = environment(CODEC_SERVICE), environment(UI_SERVICE)
    port = int(interpolate(codec_env.get("VCS_CODEC_PORT", "8081")))
    assert interpolate(codec_env.get("VCS_CODEC_HOST", "127.0.0.1")) == "0.0.0.0", (
        f"service {CODEC_SERVICE!r} must listen on 0.0.0.0 to be reached through its port"
    )
    assert port in container_ports(CODEC_SERVICE), (
        f"service {CODEC_SERVICE!r} listens on {port} but does not publish it"
    )
    # Its TLS front reaches it on the host: the port it publishes.
    published = {host_port for _, host_port, _ in published_ports(CODEC_SERVICE)}
    assert published, f"service {CODEC_SERVICE!r} publishes no port for its TLS front"
    assert ui_env.get("TEMPORAL_CODEC_PASS_ACCESS_TOKEN") == "true", (
        f"service {UI_SERVICE!r} does not pass the access token to the codec server"
    )
    # ...and the codec server must let the UI's page call it.
    ui_ports = {host_port for _, host_port, _ in published_ports(UI_SERVICE)}
    origins = interpolate(codec_env.get("VCS_CODEC_CORS_ORIGINS", "")).split(",")
    assert any(urlsplit(origin.strip()).port in ui_ports for origin in origins), (
        f"service {CODEC_SERVICE!r}: VCS_CODEC_CORS_ORIGINS {origins} names none of the UI's "
        f"published ports ({sorted(ui_ports)})"
    )


def test_web_ui_codec_endpoint_is_https() -> None:
    """The UI forwards a user's access token only to an https:// codec endpoint (to any other
    it sends none, and decodes nothing): VCS_CODEC_PUBLIC_URL is the TLS front of the codec
    server, and whatever default or example the stack gives for it must be https."""
    value = environment(UI_SERVICE).get("TEMPORAL_CODEC_ENDPOINT", "")
    assert value, f"service {UI_SERVICE!r} does not set TEMPORAL_CODEC_ENDPOINT"
    match = INTERPOLATION.fullmatch(value)
    assert match is None or match.group(1) == "VCS_CODEC_PUBLIC_URL", (
        f"service {UI_SERVICE!r}: TEMPORAL_CODEC_ENDPOINT={value!r} is not from "
        "VCS_CODEC_PUBLIC_URL, as the README documents"
    )
    endpoint = urlsplit(documented_value(value))
    assert endpoint.scheme == "https" and endpoint.hostname, (
        f"service {UI_SERVICE!r}: TEMPORAL_CODEC_ENDPOINT={value!r} gives "
        f"{endpoint.geturl()!r}, not an https:// URL: the UI would send no token to it"
    )


def test_web_ui_signs_users_in_with_the_issuer_the_codec_server_trusts() -> None:
    ui_env, codec_env = environment(UI_SERVICE), environment(CODEC_SERVICE)
    assert ui_env.get("TEMPORAL_AUTH_ENABLED") == "true", f"{UI_SERVICE!r} has no sign-in"
    assert ui_env.get("TEMPORAL_AUTH_TYPE", "oidc") == "oidc"
    for name in ("TEMPORAL_AUTH_PROVIDER_URL", "TEMPORAL_AUTH_CLIENT_ID"):
        assert ui_env.get(name), f"service {UI_SERVICE!r} does not set {name}"
    for name in UI_SECRETS:
        assert required(ui_env.get(name, "")), (
            f"service {UI_SERVICE!r}: {name}={ui_env.get(name)!r} is not ${{...:?...}}: "
            "a secret must be given, never defaulted"
        )
    # The tokens the UI forwards are the issuer's: the codec server must trust that issuer.
    assert ui_env["TEMPORAL_AUTH_PROVIDER_URL"] == codec_env.get("VCS_CODEC_OIDC_ISSUER"), (
        f"service {UI_SERVICE!r} signs in with {ui_env['TEMPORAL_AUTH_PROVIDER_URL']!r} but "
        f"{CODEC_SERVICE!r} trusts {codec_env.get('VCS_CODEC_OIDC_ISSUER')!r}"
    )
    callback = urlsplit(interpolate(ui_env.get("TEMPORAL_AUTH_CALLBACK_URL", "")))
    assert callback.scheme in ("http", "https") and callback.path == "/auth/sso/callback", (
        f"service {UI_SERVICE!r}: TEMPORAL_AUTH_CALLBACK_URL {callback.geturl()!r} is not "
        "the UI's /auth/sso/callback"
    )
    ui_ports = {host_port for _, host_port, _ in published_ports(UI_SERVICE)}
    assert callback.port in ui_ports, (
        f"service {UI_SERVICE!r}: the default callback {callback.geturl()!r} is not on a port "
        f"the UI publishes ({sorted(ui_ports)})"
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
