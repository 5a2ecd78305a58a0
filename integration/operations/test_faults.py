"""Faults through a real Envoy: Lambda refusing, resetting, slow or answering badly, callers
going away, a crowd waiting for credentials, a VM crash. Each ends in a clear answer within
the route's timeout, nothing unsigned reaches the Lambda side, and the counters say what
happened. With an event format the filter sends the call itself, so `invoke_timeout_ms`
bounds it (set to the route's timeout here, as the shipped configs do). Not here: a reset in
the middle of a passthrough answer, whose status has already gone out (the caller's answer is
cut short)."""

import copy
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import client
from harness.capture import CannedResponse
from harness.envoy import FILTER_NAME, plugin_configuration, render_config
from harness.expectations import assert_local_reply, assert_nothing_sent_upstream
from harness.faulty_lambda import GOOD_BODY, HUGE_BODY_BYTES, RETRY_AFTER, FaultyLambda
from harness.metrics import moved, wait_for_metrics, wait_until
from harness.processes import free_port
from harness.wasm import build_crash_filter

ROUTE_TIMEOUT = "2s"
ROUTE_TIMEOUT_SECONDS = 2.0
MARGIN_SECONDS = 1.0
JSON = [("Content-Type", "application/json")]
PAYLOAD = b'{"fault": "test"}'
CREDENTIALS_DELAY_SECONDS = 2.0
RELOAD_WITHIN_SECONDS = 3.0
REFUSED_FOR_SECONDS = 2.0  # FAIL_CLOSED: longer than FAIL_RELOAD's backoff (1.1-1.4 s here)
MODES = pytest.mark.parametrize("passthrough", [True, False], ids=["passthrough", "event"])


@pytest.fixture
def faulty_lambda(aws):
    """faulty_lambda(mode, **options) -> a started FaultyLambda, stopped after the test."""
    started: list[FaultyLambda] = []

    def start(mode: str, **options) -> FaultyLambda:
        stand_in = FaultyLambda(aws.credentials_by_access_key(), aws.region, mode, **options)
        started.append(stand_in.start())
        return stand_in

    yield start
    for stand_in in started:
        stand_in.stop()


def envoy_to(start_envoy, aws, lambda_port: int, passthrough: bool, **fields):
    if not passthrough:  # the filter's own call: as long as the route's
        fields.setdefault("invoke_timeout_ms", int(ROUTE_TIMEOUT_SECONDS * 1000))
    configuration = plugin_configuration(
        arn=aws.function_arn, payload_passthrough=passthrough, detailed_errors=True, **fields
    )
    return start_envoy(configuration, lambda_port=lambda_port, route_timeout=ROUTE_TIMEOUT)


def timed_call(url: str, headers=JSON, body: bytes = PAYLOAD) -> tuple[client.Answer, float]:
    start = time.monotonic()
    answer = client.call(url, "POST", "/", headers, body)
    return answer, time.monotonic() - start


def assert_all_signed(stand_in, count: int) -> None:
    """`count` requests reached the stand-in, each correctly signed."""
    seen = stand_in.requests
    assert len(seen) == count, stand_in.describe()
    for request in seen:
        assert request.verdict.ok, request.describe()


def request_counters(stats: dict[str, int]) -> dict[str, int]:
    return {n: v for n, v in moved(stats).items() if n != "credential_fetches.environment"}


# --- no usable answer: Envoy (passthrough) or the filter (events) answers ---------------------

ENVOY_FLAGS = {"refuse": "UF", "reset": "UC"}
# mode, passthrough -> status, error code, the counter besides invocations.synchronous
NO_ANSWER = {
    ("refuse", True): (503, "LambdaUnreachable", "lambda_errors.server"),
    ("refuse", False): (503, "LambdaUnreachable", "lambda_errors.no_answer"),
    ("reset", True): (503, "LambdaUnreachable", "lambda_errors.server"),
    ("reset", False): (503, "LambdaUnreachable", "lambda_errors.no_answer"),
    ("slow", True): (504, "LambdaTimeout", "lambda_errors.server"),
    ("slow", False): (504, "LambdaTimeout", "lambda_errors.no_answer"),
    ("reset_mid_response", False): (503, "LambdaUnreachable", "lambda_errors.no_answer"),
}


@pytest.mark.parametrize(
    ("mode", "passthrough"),
    list(NO_ANSWER),
    ids=[f"{m}-{'pass' if p else 'event'}" for m, p in NO_ANSWER],
)
def test_no_answer_from_lambda_is_a_json_error(aws, start_envoy, faulty_lambda, mode, passthrough):
    status, code, counter = NO_ANSWER[(mode, passthrough)]
    stand_in = None
    if mode == "refuse":
        port = free_port()
    else:
        stand_in = faulty_lambda(mode, delay=ROUTE_TIMEOUT_SECONDS + 3)
        port = stand_in.port
    envoy = envoy_to(start_envoy, aws, port, passthrough)

    answer, elapsed = timed_call(envoy.url)

    document = assert_local_reply(answer, status, code)
    assert elapsed < ROUTE_TIMEOUT_SECONDS + MARGIN_SECONDS, (elapsed, document)
    if passthrough and mode in ENVOY_FLAGS:  # Envoy's answer, mapped: its flag is named
        assert f"({ENVOY_FLAGS[mode]}" in document["message"], document
    if stand_in is not None:
        assert_all_signed(stand_in, 1)
    stats = wait_for_metrics(envoy, {counter: 1})
    assert request_counters(stats) == {"invocations.synchronous": 1, counter: 1}
    assert stats["requests_in_flight"] == 0


def test_a_reset_mid_response_cuts_the_callers_answer(aws, start_envoy, faulty_lambda):
    """Passthrough: Lambda's 200 and its headers have gone out when the connection breaks;
    all Envoy can do is cut the caller's answer short, which the caller sees as a short read."""
    stand_in = faulty_lambda("reset_mid_response")
    envoy = envoy_to(start_envoy, aws, stand_in.port, passthrough=True)

    start = time.monotonic()
    with pytest.raises(ConnectionError):
        client.call(envoy.url, "POST", "/", JSON, PAYLOAD)
    assert time.monotonic() - start < ROUTE_TIMEOUT_SECONDS + MARGIN_SECONDS

    assert_all_signed(stand_in, 1)
    stats = wait_for_metrics(envoy, {"invocations.synchronous": 1})
    assert request_counters(stats) == {"invocations.synchronous": 1}


# --- Lambda answers, badly ---------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429])
@MODES
def test_lambda_errors_reach_the_caller(aws, start_envoy, faulty_lambda, status, passthrough):
    stand_in = faulty_lambda("error", status=status)
    envoy = envoy_to(start_envoy, aws, stand_in.port, passthrough)

    answer, elapsed = timed_call(envoy.url)

    assert answer.status == status, str(answer)
    assert answer.json()["message"].endswith("from the stand-in"), str(answer)
    assert answer.header("x-amzn-errortype"), str(answer)
    if status == 429:
        assert answer.header("retry-after") == RETRY_AFTER, str(answer)
    assert elapsed < ROUTE_TIMEOUT_SECONDS
    assert_all_signed(stand_in, 1)
    counter = "lambda_errors.throttled" if status == 429 else "lambda_errors.server"
    stats = wait_for_metrics(envoy, {counter: 1})
    assert request_counters(stats) == {"invocations.synchronous": 1, counter: 1}


@pytest.mark.parametrize("mode", ["truncated", "not_json", "huge"])
def test_a_bad_result_is_a_malformed_result_with_events(aws, start_envoy, faulty_lambda, mode):
    stand_in = faulty_lambda(mode)
    envoy = envoy_to(start_envoy, aws, stand_in.port, passthrough=False)

    answer, elapsed = timed_call(envoy.url)

    assert_local_reply(answer, 502, "MalformedFunctionResult")
    assert elapsed < ROUTE_TIMEOUT_SECONDS + MARGIN_SECONDS
    assert_all_signed(stand_in, 1)
    stats = wait_for_metrics(envoy, {"malformed_results": 1})
    assert request_counters(stats) == {"invocations.synchronous": 1, "malformed_results": 1}


@pytest.mark.parametrize("mode", ["truncated", "not_json", "huge"])
def test_a_bad_result_passes_as_it_is_with_passthrough(aws, start_envoy, faulty_lambda, mode):
    """Passthrough hands the caller Lambda's bytes: the filter does not read the result."""
    stand_in = faulty_lambda(mode)
    envoy = envoy_to(start_envoy, aws, stand_in.port, passthrough=True)

    answer, elapsed = timed_call(envoy.url)

    assert answer.status == 200, str(answer)
    if mode == "huge":
        assert len(answer.body) > HUGE_BODY_BYTES
    else:
        assert answer.body != GOOD_BODY
    assert elapsed < ROUTE_TIMEOUT_SECONDS + MARGIN_SECONDS
    assert_all_signed(stand_in, 1)
    stats = wait_for_metrics(envoy, {"invocations.synchronous": 1})
    assert request_counters(stats) == {"invocations.synchronous": 1}


# --- the filter's own replies are not rewritten ------------------------------------------


def connection_manager(envoy_config: dict) -> dict:
    [listener] = envoy_config["static_resources"]["listeners"]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def without_local_reply_mappers(envoy_config: dict) -> dict:
    del connection_manager(envoy_config)["local_reply_config"]
    return envoy_config


@pytest.mark.parametrize("fault", ["too_large", "no_credentials"])
def test_the_filters_own_replies_stay_byte_identical(
    aws, capture, wasm_path, start_bootstrap, fault
):
    """The same request through the shipped config and through one without the mappers."""
    fields = {"max_request_bytes": 8} if fault == "too_large" else {}
    environment = aws.user_credentials.as_environment() if fault == "too_large" else {}
    config = render_config(
        wasm_path=wasm_path,
        plugin_configuration=plugin_configuration(
            arn=aws.function_arn, payload_passthrough=True, **fields
        ),
        lambda_port=capture.port,
    )
    answers = []
    for name, bootstrap in [
        ("shipped", config),
        ("unmapped", without_local_reply_mappers(copy.deepcopy(config))),
    ]:
        envoy = start_bootstrap(name, bootstrap, environment)
        answer = client.call(envoy.url, "POST", "/", JSON, PAYLOAD)
        answers.append((answer.status, answer.header("content-type"), answer.body))
    status, code = (
        (413, "RequestTooLarge") if fault == "too_large" else (503, "CredentialsUnavailable")
    )
    assert answers[0] == answers[1], answers
    assert answers[0][0] == status and json.loads(answers[0][2])["error"] == code, answers
    assert_nothing_sent_upstream(capture)


# --- callers going away ------------------------------------------------------------------


def send_and_close(url: str, head_and_part: bytes) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head_and_part)
        time.sleep(0.3)  # Envoy reads it before the close


def partial_request(length: int, sent: int) -> bytes:
    head = f"POST / HTTP/1.1\r\nHost: lambda\r\nContent-Length: {length}\r\n\r\n"
    return head.encode() + b"x" * sent


def test_a_caller_gone_mid_request_sends_nothing(aws, capture, start_envoy):
    envoy = start_envoy()

    send_and_close(envoy.url, partial_request(1000, 100))

    stats = wait_until(envoy, lambda m: m.get("requests_in_flight") == 0)
    assert stats["requests_in_flight"] == 0, stats
    assert_nothing_sent_upstream(capture)
    assert request_counters(stats) == {}
    assert client.call(envoy.url, "POST", "/", JSON, PAYLOAD).status == 200  # still serving


def container_envoy(aws, start_envoy, container_endpoint, max_wait_ms: int):
    configuration = plugin_configuration(
        arn=aws.function_arn,
        payload_passthrough=True,
        # The endpoint answers first after CREDENTIALS_DELAY_SECONDS, within the fetch timeout.
        credentials={"provider": "container", "max_wait_ms": max_wait_ms, "fetch_timeout_ms": 4000},
    )
    return start_envoy(
        configuration,
        environment=container_endpoint.relative_uri_environment(),
        clusters=[container_endpoint.cluster()],
    )


def test_a_caller_gone_while_waiting_for_credentials(aws, capture, start_envoy, container_endpoint):
    container_endpoint.delay_next_answers(CREDENTIALS_DELAY_SECONDS)
    envoy = container_envoy(aws, start_envoy, container_endpoint, max_wait_ms=5000)

    send_and_close(envoy.url, partial_request(len(PAYLOAD), len(PAYLOAD)))

    expected = {
        "credentials_wait.started": 1,
        "credentials_wait.abandoned": 1,
        "credential_fetches.container": 1,
    }
    stats = wait_for_metrics(envoy, expected)
    assert request_counters(stats) == expected
    assert_nothing_sent_upstream(capture)  # not later either, once credentials came
    assert client.call(envoy.url, "POST", "/", JSON, PAYLOAD).status == 200


# --- a crowd waiting for credentials -----------------------------------------------------

CROWD = 500


def rss_kib(envoy) -> int:
    with open(f"/proc/{envoy.pid}/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))


def crowd_outcomes(url: str) -> list[tuple[int | None, bytes, float]]:
    def one(number: int):
        start = time.monotonic()
        try:
            answer = client.call(url, "POST", "/", JSON, b'{"n": %d}' % number, timeout=20)
        except ConnectionError as error:
            return None, repr(error).encode(), time.monotonic() - start
        return answer.status, answer.body, time.monotonic() - start

    with ThreadPoolExecutor(CROWD) as pool:
        return list(pool.map(one, range(CROWD)))


@pytest.mark.parametrize("credentials_come", [True, False], ids=["arrive", "never"])
def test_a_crowd_waiting_for_credentials(
    aws, capture, start_envoy, container_endpoint, credentials_come
):
    capture.answer_with(CannedResponse(200, JSON, b'{"ok": true}'))
    if credentials_come:
        container_endpoint.delay_next_answers(CREDENTIALS_DELAY_SECONDS)
    else:
        container_endpoint.go_down("hang")
    max_wait_ms = 5000 if credentials_come else 2000
    envoy = container_envoy(aws, start_envoy, container_endpoint, max_wait_ms=max_wait_ms)
    before = rss_kib(envoy)

    outcomes = crowd_outcomes(envoy.url)

    grown = rss_kib(envoy) - before
    statuses = {status for status, _, _ in outcomes}
    slowest = max(elapsed for _, _, elapsed in outcomes)
    if credentials_come:
        assert statuses == {200}, [o for o in outcomes if o[0] != 200][:5]
        assert len(capture.requests) == CROWD
        for request in capture.requests:
            assert request.verdict.ok, request.describe()
        counters = {"credentials_wait.signed": CROWD, "invocations.synchronous": CROWD}
    else:
        assert statuses == {503}, [o for o in outcomes if o[0] != 503][:5]
        assert all(json.loads(b)["error"] == "CredentialsUnavailable" for _, b, _ in outcomes)
        assert_nothing_sent_upstream(capture)
        counters = {"credentials_wait.timed_out": CROWD, "credentials_unavailable": CROWD}
    assert slowest < max_wait_ms / 1000 + 2 * MARGIN_SECONDS, slowest
    stats = wait_for_metrics(envoy, {"credentials_wait.started": CROWD, **counters})
    assert stats["credentials_wait.started"] == CROWD, stats
    print(f"{CROWD} waiting: slowest {slowest:.2f}s, Envoy's RSS grew {grown} KiB")
    assert grown < 64 * 1024, f"Envoy's RSS grew {grown} KiB"


# --- a crash of the VM -------------------------------------------------------------------


@pytest.fixture(scope="session")
def crash_wasm_path():
    """The filter with the test-crash feature (built once per run, cached under target/)."""
    return build_crash_filter()


def with_failure_policy(envoy_config: dict, policy: str) -> dict:
    http_filters = connection_manager(envoy_config)["http_filters"]
    [plugin] = [f for f in http_filters if f["name"] == FILTER_NAME]
    plugin["typed_config"]["config"]["failure_policy"] = policy
    return envoy_config


@pytest.mark.parametrize("policy", ["FAIL_RELOAD", "FAIL_CLOSED"])
def test_a_vm_crash_fails_closed(aws, capture, start_bootstrap, crash_wasm_path, policy):
    """The shipped failure policy, FAIL_RELOAD: the crashing request and those in Envoy's
    reload backoff (1 s) get 503 FilterUnavailable, nothing leaves unsigned, then a fresh VM
    signs again. FAIL_CLOSED, for comparison: refused from the crash on."""
    config = render_config(
        wasm_path=crash_wasm_path,
        plugin_configuration=plugin_configuration(arn=aws.function_arn, payload_passthrough=True),
        lambda_port=capture.port,
    )
    assert with_failure_policy(copy.deepcopy(config), "FAIL_RELOAD") == config  # as shipped
    envoy = start_bootstrap(
        "crash", with_failure_policy(config, policy), aws.user_credentials.as_environment()
    )

    crashed, elapsed = timed_call(envoy.url, [*JSON, ("x-mesh-lambda-test-crash", "1")])

    assert_local_reply(crashed, 503, "FilterUnavailable")
    assert elapsed < MARGIN_SECONDS
    start, answers = time.monotonic(), []
    refused_for = RELOAD_WITHIN_SECONDS if policy == "FAIL_RELOAD" else REFUSED_FOR_SECONDS
    while time.monotonic() - start < refused_for:
        answers.append(client.call(envoy.url, "POST", "/", JSON, PAYLOAD))
        if answers[-1].status == 200:
            break
        assert_local_reply(answers[-1], 503, "FilterUnavailable")
        time.sleep(0.1)
    if policy == "FAIL_CLOSED":
        assert_nothing_sent_upstream(capture)
        return
    assert answers[-1].status == 200, str(answers[-1])
    print(f"refused {len(answers) - 1} requests for {time.monotonic() - start:.2f}s")
    assert len(capture.requests) == 1 and capture.requests[0].verdict.ok, capture.describe()
