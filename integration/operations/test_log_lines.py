"""The filter's log lines name it once. Envoy starts every line a Wasm plugin logs with the
plugin's identifiers, `wasm log <name> <root_id> <vm_id>: <message>` (Envoy's
`source/extensions/common/wasm/context.cc`, `Context::log`, with proxy-wasm-cpp-host's log
prefix: a stream's lines carry the plugin's name, root id and VM id, a VM's own lines the root
id and VM id), so the message must not say the plugin's name again: a VM's lines start with
what happened, a stream's with its marker `context <context id>: `."""

import re

from harness import client
from harness.envoy import plugin_configuration

# Envoy's prefix (identifiers separated by spaces), then the filter's message.
WASM_LOG = re.compile(r"wasm log(?P<identifiers>(?: [^ :]+)*): (?P<message>.*)")


def test_a_line_names_the_filter_once(aws, capture, start_envoy):
    """A VM's lines (start, configuration, a failed credential fetch) and a stream's (the 503
    for missing credentials): none says the name Envoy's prefix has just said."""
    envoy = start_envoy(
        plugin_configuration(arn=aws.function_arn, payload_passthrough=True),
        environment={"AWS_ACCESS_KEY_ID": aws.user_credentials.access_key_id},
    )

    answer = client.call(envoy.url, "POST", "/", body=b'{"unsigned": "never"}')

    assert answer.status == 503
    envoy.stop()
    lines = [m for m in map(WASM_LOG.search, envoy.log_text().splitlines()) if m]
    for line in lines:
        identifiers = line["identifiers"].split()
        assert "mesh-lambda" in identifiers, line[0]
        said_again = [i for i in identifiers if line["message"].startswith(f"{i}: ")]
        assert not said_again, f"the name is repeated: {line[0]}"
    messages = [m["message"] for m in lines]
    # The start line names the filter and its version itself (crates/core/src/vm/mod.rs
    # START_LINE): Envoy's prefix names the VM by its vm_id, which a loader may choose.
    assert any(re.fullmatch(r"mesh-lambda \d+\.\d+\.\d+ starting", m) for m in messages), messages
    assert any(m.startswith("credential fetch failed: ") for m in messages), messages
    assert any(re.match(r"context \d+: 503 CredentialsUnavailable", m) for m in messages)
