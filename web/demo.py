"""The demonstration sign-ins: one user for each role, for the local OpenID provider that
bin/run-demo and the browser tests start (oidc-provider-mock). Subjects only; no real names."""

from service.actor import Role

DEMO_REGION = "Yorkshire and the Humber"

# subject -> (roles, region)
DEMO_USERS: dict[str, tuple[list[Role], str]] = {
    "vlo.demo": ([Role.VLO], DEMO_REGION),
    "senior.patel": ([Role.SENIOR_VLO], DEMO_REGION),
    "manager.evans": ([Role.VLO_MANAGER], DEMO_REGION),
    "admin.clarke": ([Role.ADMIN], DEMO_REGION),
    "auditor.khan": ([Role.AUDITOR], DEMO_REGION),
    "vlo.wales": ([Role.VLO], "Wales"),
    "manager.wales": ([Role.VLO_MANAGER], "Wales"),  # accepts hand-offs to Wales
    "manager.london": ([Role.VLO_MANAGER], "London"),
}


def demo_claims(
    roles_claim: str = "roles", region_claim: str = "region"
) -> list[dict[str, object]]:
    return [
        {"sub": sub, roles_claim: [r.value for r in roles], region_claim: region}
        for sub, (roles, region) in DEMO_USERS.items()
    ]


def main() -> None:
    """Run the local OpenID provider with the demo users (bin/run-demo): port 9400."""
    import json

    from oidc_provider_mock.__main__ import run

    args = ["--port", "9400"]
    for claims in demo_claims():
        args += ["--user-claims", json.dumps(claims)]
    run(args)


if __name__ == "__main__":
    main()
