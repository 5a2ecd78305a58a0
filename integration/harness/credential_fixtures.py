"""Fixtures for the credential provider tests (loaded by conftest.py as a pytest plugin):
the STS mint, the two metadata stand-ins and the STS hop of the assume-role tests, whose
request logs join a failure's report."""

import pytest

from .metadata import ContainerCredentialsEndpoint, CredentialMint, InstanceMetadataService
from .sts import StsHop
from .web_identity import WebIdentityStsHop

_STAND_INS = pytest.StashKey[list]()


@pytest.fixture
def sts_mint(aws, capture) -> CredentialMint:
    """Mints session credentials with moto's STS; the capture hop learns each one."""
    return CredentialMint(aws, capture)


def _started(request, stand_in):
    request.node.stash.setdefault(_STAND_INS, []).append(stand_in)
    return stand_in.start()


@pytest.fixture
def container_endpoint(request, sts_mint) -> ContainerCredentialsEndpoint:
    """The ECS container credentials endpoint; set `authorization` to require a token."""
    stand_in = _started(request, ContainerCredentialsEndpoint(sts_mint))
    yield stand_in
    stand_in.stop()


@pytest.fixture
def instance_metadata(request, sts_mint) -> InstanceMetadataService:
    """The EC2 instance metadata service, IMDSv2 only."""
    stand_in = _started(request, InstanceMetadataService(sts_mint))
    yield stand_in
    stand_in.stop()


@pytest.fixture
def sts_hop(request, aws, capture) -> StsHop:
    """Where the filter's `sts` cluster points: records and verifies AssumeRole calls,
    forwards them to moto, and lets the capture hop verify Invokes with the keys assumed.
    The calls must be signed for the function's region, or for the one a test gives
    (`parametrize("sts_hop", [region], indirect=True)`)."""
    region = getattr(request, "param", aws.region)
    stand_in = _started(request, StsHop(aws, capture, region=region))
    yield stand_in
    stand_in.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for stand_in in item.stash.get(_STAND_INS, []):
            report.sections.append(("requests seen by a credential stand-in", stand_in.describe()))


@pytest.fixture
def web_identity_sts(request, aws, capture) -> WebIdentityStsHop:
    """Where the filter's `sts` cluster points for IRSA: plays STS's token check for
    AssumeRoleWithWebIdentity (harness/web_identity.py), forwards to moto."""
    stand_in = _started(request, WebIdentityStsHop(aws, capture, region=aws.region))
    yield stand_in
    stand_in.stop()
