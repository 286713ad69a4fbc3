"""The AI transform through real flows, against the local OpenAI-compatible server.

Every test runs a ``.flow.md`` file with ``maidit_jupyter.run_sync`` (or the ``maidit``
CLI) against :class:`tests.ai_server.AIServer` on 127.0.0.1: text output, structured
output through the ``output`` tool, repair prompts, rate limits, server errors,
timeouts, where the base URL, model and key come from, token usage, and the key never
leaving the request.
"""

from __future__ import annotations

import json
import logging
import os
import secrets as token_source
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import maidit_jupyter
from maidit_jupyter import FlowRun, RunStatus
from maidit_jupyter.durations import parse_retry_after_ms
from maidit_jupyter.runtimes.ai_schema import conform
from tests import ai_server as fake
from tests.ai_server import AIServer, Reply, error, slow, text, tool

#: the server fixture, by the name the tests ask for.
ai_server = fake.ai_server

MAIDIT = Path(sys.executable).with_name("maidit")
SCHEMA = "{title: string, tags: string[]}"


def write_flow(
    tmp_path: Path,
    node: str,
    *,
    frontmatter: str = "",
    name: str = "ai.flow.md",
) -> Path:
    """A flow whose node ``doc`` outputs ``"the document"`` and then ``node``."""
    path = tmp_path / name
    path.write_text(
        "---\nname: ai-test\nversion: 1.0.0\n"
        f"{frontmatter}"
        "---\n<workflow>\n"
        '<transform id="doc" type="template"><template>the document</template>'
        "</transform>\n"
        f"{node}\n"
        "</workflow>\n",
        encoding="utf-8",
    )
    return path


def ai_node(
    server: AIServer | str | None,
    *,
    attrs: str = "",
    children: str = "<user>Summarise: {{ input }}</user>",
    model: str | None = "test/model",
) -> str:
    """An AI node ``ask`` reading ``doc`` (base URL and model on the node if given)."""
    base = server.url if isinstance(server, AIServer) else server
    parts = ['id="ask"', 'type="ai"', 'input="doc"']
    if base is not None:
        parts.append(f'base-url="{base}"')
    if model is not None:
        parts.append(f'model="{model}"')
    if attrs:
        parts.append(attrs)
    return f"<transform {' '.join(parts)}>{children}</transform>"


def run(path: Path, **options: Any) -> FlowRun:
    return maidit_jupyter.run_sync(path, **options)


def failure(flow_run: FlowRun, node: str = "ask") -> tuple[str, str]:
    result = flow_run.results[node]
    assert result.error is not None, result
    return result.error.code, result.error.message


# --- text output -----------------------------------------------------------------


def test_text_output_with_prompts_and_usage(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(text("A short summary."))
    node = ai_node(
        ai_server,
        attrs='max-tokens="200" temperature="0.3"',
        children="<system>Be brief: one line</system>"
        "<user>Summarise: {{ input }}</user>",
    )
    flow_run = run(write_flow(tmp_path, node))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["ask"] == "A short summary."
    [request] = ai_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "test/model"
    assert request.body["max_tokens"] == 200
    assert request.body["temperature"] == 0.3
    assert request.messages == [
        {"role": "system", "content": "Be brief: one line"},
        {"role": "user", "content": "Summarise: the document"},
    ]
    assert "tools" not in request.body
    assert "tool_choice" not in request.body
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-title"] == "FlowScript"
    assert "authorization" not in request.headers  # loopback: no key needed
    meta = flow_run.results["ask"].meta
    assert meta is not None
    assert meta["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
    }
    assert meta["model"] == "test/model"
    assert meta["requests"] == 1


def test_defaults_and_prompt_fallbacks(ai_server: AIServer, tmp_path: Path) -> None:
    """No system message when none is given; ``max_tokens`` 4096; ``<prompt>`` is the
    user message when there is no ``<user>``; without either, the input is."""
    ai_server.script(text("one"), text("two"))
    nodes = ai_node(ai_server, children="<prompt>Tell me about {{ input }}</prompt>")
    nodes += '\n<transform id="bare" type="ai" input="doc" '
    nodes += f'base-url="{ai_server.url}" model="m"/>'
    flow_run = run(write_flow(tmp_path, nodes))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    first, second = ai_server.requests
    assert first.messages == [{"role": "user", "content": "Tell me about the document"}]
    assert first.body["max_tokens"] == 4096
    assert "temperature" not in first.body
    assert second.messages == [{"role": "user", "content": "the document"}]


def test_a_reply_that_is_json_becomes_data(ai_server: AIServer, tmp_path: Path) -> None:
    """As in the original: without a schema, text that is JSON as a whole is parsed."""
    ai_server.script(text('{"colors": ["red", "blue"]}'))
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))
    assert flow_run.outputs["ask"] == {"colors": ["red", "blue"]}


def test_an_empty_reply_fails(ai_server: AIServer, tmp_path: Path) -> None:
    ai_server.script(text(""))
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))
    assert flow_run.status is RunStatus.FAILED
    assert failure(flow_run) == ("API_ERROR", "No content in response")


# --- structured output -----------------------------------------------------------


def test_schema_output_through_the_output_tool(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(tool({"title": "Report", "tags": ["a", "b"], "junk": 1}))
    node = ai_node(
        ai_server,
        children="<system>You summarise.</system><user>Summarise: {{ input }}</user>"
        f"<output-schema>{SCHEMA}</output-schema>",
    )
    flow_run = run(write_flow(tmp_path, node))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    # unknown keys are dropped, as the original's zod schema did
    assert flow_run.outputs["ask"] == {"title": "Report", "tags": ["a", "b"]}
    [request] = ai_server.requests
    [declared] = request.body["tools"]
    assert declared["type"] == "function"
    function = declared["function"]
    assert function["name"] == "output"
    assert function["strict"] is True
    assert function["parameters"] == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title", "tags"],
        "additionalProperties": False,
    }
    assert function["description"] == (
        "Return structured output with exactly these fields: title (string), "
        "tags (string[]). Use these exact field names."
    )
    assert request.body["tool_choice"] == {
        "type": "function",
        "function": {"name": "output"},
    }
    assert request.content("system") == (
        "You summarise.\nYou MUST respond using the output tool with exactly these "
        "field names: title, tags. Use these exact names, not synonyms."
    )


def test_nested_and_non_object_schemas(ai_server: AIServer, tmp_path: Path) -> None:
    """A top-level array is wrapped as ``{value: …}`` for the tool and unwrapped."""
    ai_server.script(
        tool({"value": [{"name": "x", "score": 1.5, "ok": True}]}),
        tool({"user": {"name": "Ann", "langs": [["en"]]}}),
    )
    nodes = ai_node(
        ai_server,
        children="<user>go</user>"
        "<output-schema>{name: string, score: number, ok: boolean}[]</output-schema>",
    )
    nodes += (
        f'\n<ai id="deep" input="doc" base-url="{ai_server.url}" model="m">'
        "<user>go</user><output-schema>{user: {name: string, langs: string[][]}}"
        "</output-schema></ai>"
    )
    flow_run = run(write_flow(tmp_path, nodes))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["ask"] == [{"name": "x", "score": 1.5, "ok": True}]
    assert flow_run.outputs["deep"] == {"user": {"name": "Ann", "langs": [["en"]]}}
    parameters = ai_server.requests[0].body["tools"][0]["function"]["parameters"]
    assert parameters["required"] == ["value"]
    assert parameters["properties"]["value"]["type"] == "array"


def test_a_misnamed_key_of_the_right_type_is_renamed(
    ai_server: AIServer, tmp_path: Path
) -> None:
    """The original's key remapping: ``heading`` fills the missing ``title``."""
    ai_server.script(tool({"heading": "T", "tags": []}))
    node = ai_node(
        ai_server, children=f"<user>x</user><output-schema>{SCHEMA}</output-schema>"
    )
    flow_run = run(write_flow(tmp_path, node))
    assert flow_run.outputs["ask"] == {"title": "T", "tags": []}
    assert len(ai_server.requests) == 1


def test_invalid_then_valid_sends_a_repair_prompt(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(
        tool({"title": 5, "tags": "x"}),
        tool({"title": "Fixed", "tags": ["ok"]}),
    )
    node = ai_node(
        ai_server,
        children=f"<user>Summarise: {{{{ input }}}}</user>"
        f"<output-schema>{SCHEMA}</output-schema>",
    )
    flow_run = run(write_flow(tmp_path, node))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["ask"] == {"title": "Fixed", "tags": ["ok"]}
    first, second = ai_server.requests
    assert first.content("user") == "Summarise: the document"
    repair = second.content("user")
    assert repair.startswith("Summarise: the document\n\n---\n\n")
    assert "did not match the required output schema" in repair
    assert '{"title": 5, "tags": "x"}' in repair
    assert (
        "Schema validation error: title: expected string, got number; "
        "tags: expected array, got string"
    ) in repair
    assert second.body["tools"] == first.body["tools"]
    result = flow_run.results["ask"]
    assert result.attempts == 1  # repairs happen inside one attempt
    assert result.meta is not None
    assert result.meta["repairs"] == 1
    assert result.meta["requests"] == 2
    assert result.meta["usage"] == {
        "prompt_tokens": 40,
        "completion_tokens": 16,
        "total_tokens": 56,
    }


def test_a_reply_that_is_not_a_tool_call_or_not_json_is_repaired(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(
        tool('{"title": "unterminated'),
        text("Sure! Here is your summary."),
        text('{"title": "From content", "tags": []}'),
    )
    node = ai_node(
        ai_server,
        attrs='max-retries="3"',
        children=f"<user>x</user><output-schema>{SCHEMA}</output-schema>",
    )
    flow_run = run(write_flow(tmp_path, node))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    # the original's fallback: content that is JSON is accepted without a tool call
    assert flow_run.outputs["ask"] == {"title": "From content", "tags": []}
    _, second, third = ai_server.requests
    assert "arguments are not valid JSON" in second.content("user")
    assert "did not call the output tool" in third.content("user")


def test_output_that_stays_invalid_fails_after_the_repairs(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(*(tool({"title": None, "tags": [1]}) for _ in range(5)))
    node = ai_node(
        ai_server, children=f"<user>x</user><output-schema>{SCHEMA}</output-schema>"
    )
    flow_run = run(write_flow(tmp_path, node))

    assert flow_run.status is RunStatus.FAILED
    code, message = failure(flow_run)
    assert code == "AI_SCHEMA_INVALID"
    assert message == (
        "AI output did not match the output schema after 2 repair prompts: "
        "title: expected string, got null; tags[0]: expected string, got number"
    )
    assert len(ai_server.requests) == 3  # the first answer and 2 repairs (default)
    assert flow_run.results["ask"].attempts == 1  # not retryable


def test_max_retries_sets_the_number_of_repairs(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(*(tool({"title": 1, "tags": []}) for _ in range(3)))
    node = ai_node(
        ai_server,
        attrs='max-retries="0"',
        children=f"<user>x</user><output-schema>{SCHEMA}</output-schema>",
    )
    flow_run = run(write_flow(tmp_path, node))
    assert failure(flow_run)[0] == "AI_SCHEMA_INVALID"
    assert "after 0 repair prompts" in failure(flow_run)[1]
    assert len(ai_server.requests) == 1


def test_an_invalid_schema_fails_before_any_request(
    ai_server: AIServer, tmp_path: Path
) -> None:
    node = ai_node(
        ai_server, children="<user>x</user><output-schema>{a: strin}</output-schema>"
    )
    flow_run = run(write_flow(tmp_path, node))
    code, message = failure(flow_run)
    assert code == "RUNTIME_INVALID_CONFIG"
    assert 'Unknown schema type: "strin"' in message
    assert ai_server.requests == []


# --- rate limits, server errors, timeouts ------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(
        error(429, "slow down", headers={"Retry-After": "1"}), text("after the wait")
    )
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["ask"] == "after the wait"
    first, second = ai_server.requests
    assert second.at - first.at >= 0.95  # Retry-After: 1 was honoured
    result = flow_run.results["ask"]
    assert result.attempts == 1  # waited inside the attempt
    assert result.meta is not None
    assert result.meta["requests"] == 2


def test_rate_limit_waits_are_bounded(ai_server: AIServer, tmp_path: Path) -> None:
    """Three waits per attempt, then RATE_LIMIT (retryable by a retry policy)."""
    ai_server.script(
        *(error(429, "busy", headers={"Retry-After": "0"}) for _ in range(4))
    )
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))

    assert flow_run.status is RunStatus.FAILED
    code, message = failure(flow_run)
    assert code == "RATE_LIMIT"
    assert message == "Rate limit exceeded (HTTP 429) (Retry-After: 0): busy"
    assert len(ai_server.requests) == 4


def test_a_long_retry_after_is_left_to_the_retry_policy(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(
        error(429, "quota", headers={"Retry-After": "3600"}), text("second attempt")
    )
    node = ai_node(
        ai_server,
        children="<user>x</user>"
        '<on-error><retry max="1" base="10ms" cap="50ms" jitter="false"/>'
        "</on-error>",
    )
    started = time.monotonic()
    flow_run = run(write_flow(tmp_path, node))

    assert time.monotonic() - started < 5
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["ask"] == "second attempt"
    assert flow_run.results["ask"].attempts == 2


def test_500_then_200_is_retried_by_the_retry_policy(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(error(500, "upstream exploded"), text("recovered"))
    node = ai_node(
        ai_server,
        children="<user>x</user>"
        '<on-error><retry max="2" base="10ms" when="$error.status >= 500"/>'
        "</on-error>",
    )
    flow_run = run(write_flow(tmp_path, node))

    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert flow_run.outputs["ask"] == "recovered"
    assert flow_run.results["ask"].attempts == 2
    assert len(ai_server.requests) == 2


def test_500_without_a_retry_policy_fails(ai_server: AIServer, tmp_path: Path) -> None:
    ai_server.script(error(503, "overloaded"))
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))
    assert failure(flow_run) == ("API_ERROR", "AI API error (HTTP 503): overloaded")
    assert flow_run.results["ask"].attempts == 1


def test_a_4xx_is_not_retried(ai_server: AIServer, tmp_path: Path) -> None:
    ai_server.script(error(400, "bad model"), text("never"))
    node = ai_node(
        ai_server,
        children='<user>x</user><on-error><retry max="3" base="10ms"/></on-error>',
    )
    flow_run = run(write_flow(tmp_path, node))
    assert failure(flow_run) == ("API_ERROR", "AI API error (HTTP 400): bad model")
    assert len(ai_server.requests) == 1


def test_an_error_inside_a_200_reply(ai_server: AIServer, tmp_path: Path) -> None:
    """OpenRouter reports upstream failures in the body of a 200 reply."""
    ai_server.script(Reply(body={"error": {"message": "provider down", "code": 502}}))
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))
    assert failure(flow_run) == ("API_ERROR", "AI API error (502): provider down")


def test_a_slow_reply_hits_the_node_timeout(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(slow(5, text("too late")))
    node = ai_node(ai_server, attrs='timeout="300ms"')
    started = time.monotonic()
    flow_run = run(write_flow(tmp_path, node))

    assert time.monotonic() - started < 3
    assert flow_run.status is RunStatus.FAILED
    code, message = failure(flow_run)
    assert code == "RUNTIME_TIMEOUT"
    assert "timed out after 300 ms" in message


def test_a_timeout_is_retried_by_the_retry_policy(
    ai_server: AIServer, tmp_path: Path
) -> None:
    ai_server.script(slow(5, text("too late")), text("in time"))
    node = ai_node(
        ai_server,
        attrs='timeout="300ms"',
        children='<user>x</user><on-error><retry max="1" base="10ms"/></on-error>',
    )
    flow_run = run(write_flow(tmp_path, node))
    assert flow_run.outputs["ask"] == "in time"
    assert flow_run.results["ask"].attempts == 2


def test_an_unreachable_api_is_a_connection_error(tmp_path: Path) -> None:
    port = closed_port()
    flow_run = run(write_flow(tmp_path, ai_node(f"http://127.0.0.1:{port}/v1")))
    code, message = failure(flow_run)
    assert code == "RUNTIME_CONNECTION_ERROR"
    assert message.startswith(f"cannot reach the AI API at http://127.0.0.1:{port}: ")


# --- where the base URL, model and key come from -------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


UNREACHABLE = f"http://127.0.0.1:{closed_port()}/v1"


@pytest.mark.parametrize("winner", ["node", "frontmatter", "environment"])
def test_base_url_resolution_order(
    ai_server: AIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    winner: str,
) -> None:
    """node ``base-url`` > frontmatter ``ai.base_url`` > ``MAIDIT_AI_BASE_URL``."""
    urls = {
        "node": UNREACHABLE,
        "frontmatter": UNREACHABLE,
        "environment": UNREACHABLE,
    }
    urls[winner] = ai_server.url
    node_url = urls["node"] if winner == "node" else None
    front = (
        "" if winner == "environment" else f"ai:\n  base_url: {urls['frontmatter']}\n"
    )
    monkeypatch.setenv("MAIDIT_AI_BASE_URL", urls["environment"])
    ai_server.script(text("reached"))
    flow_run = run(write_flow(tmp_path, ai_node(node_url), frontmatter=front))
    assert flow_run.outputs["ask"] == "reached", flow_run.error


@pytest.mark.parametrize("winner", ["node", "frontmatter", "environment"])
def test_model_resolution_order(
    ai_server: AIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    winner: str,
) -> None:
    """node ``model`` > frontmatter ``ai.model`` > ``MAIDIT_AI_MODEL``."""
    monkeypatch.setenv("MAIDIT_AI_MODEL", "env/model")
    front = "" if winner == "environment" else "ai:\n  model: front/model\n"
    model = "node/model" if winner == "node" else None
    ai_server.script(text("ok"))
    flow_run = run(
        write_flow(tmp_path, ai_node(ai_server, model=model), frontmatter=front)
    )
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    expected = {"node": "node", "frontmatter": "front", "environment": "env"}[winner]
    assert ai_server.requests[0].body["model"] == f"{expected}/model"


def test_no_model_anywhere_is_a_clear_error(
    ai_server: AIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAIDIT_AI_MODEL", raising=False)
    flow_run = run(write_flow(tmp_path, ai_node(ai_server, model=None)))
    code, message = failure(flow_run)
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "has no model" in message
    assert "MAIDIT_AI_MODEL" in message
    assert ai_server.requests == []


KEYS = {
    "NODE_KEY": "node-key-value-1",
    "FRONT_KEY": "front-key-value-2",
    "OPENROUTER_API_KEY": "openrouter-key-value-3",
    "OPENAI_API_KEY": "openai-key-value-4",
}


@pytest.mark.parametrize(
    ("attrs", "front", "given", "expected"),
    [
        ('api-key="NODE_KEY"', "ai:\n  api_key: FRONT_KEY\n", list(KEYS), "NODE_KEY"),
        ("", "ai:\n  api_key: FRONT_KEY\n", list(KEYS), "FRONT_KEY"),
        ("", "", list(KEYS), "OPENROUTER_API_KEY"),
        ("", "", ["OPENAI_API_KEY"], "OPENAI_API_KEY"),
    ],
)
def test_key_resolution_order(
    ai_server: AIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    attrs: str,
    front: str,
    given: list[str],
    expected: str,
) -> None:
    """node ``api-key`` > frontmatter ``ai.api_key`` > OPENROUTER_API_KEY >
    OPENAI_API_KEY, each a declared secret."""
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    declared = f"secrets: [{', '.join(KEYS)}]\n"
    ai_server.script(text("ok"))
    flow_run = run(
        write_flow(
            tmp_path, ai_node(ai_server, attrs=attrs), frontmatter=declared + front
        ),
        secrets={name: KEYS[name] for name in given},
    )
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert ai_server.requests[0].headers["authorization"] == f"Bearer {KEYS[expected]}"


def test_an_undeclared_default_key_is_not_used(
    ai_server: AIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``OPENROUTER_API_KEY`` in the environment counts only when declared."""
    monkeypatch.setenv("OPENROUTER_API_KEY", "not-declared-key")
    ai_server.script(text("ok"))
    flow_run = run(write_flow(tmp_path, ai_node(ai_server)))
    assert flow_run.status is RunStatus.COMPLETED, flow_run.error
    assert "authorization" not in ai_server.requests[0].headers


def test_a_remote_api_without_a_key_fails_before_sending(tmp_path: Path) -> None:
    """No secret is declared, so no key can be used, and the host is not loopback."""
    flow_run = run(write_flow(tmp_path, ai_node("https://ai.example.invalid/api/v1")))
    code, message = failure(flow_run)
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "has no API key" in message


def test_a_named_secret_without_a_value_is_a_clear_error(
    ai_server: AIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRONT_KEY", raising=False)
    flow_run = run(
        write_flow(
            tmp_path,
            ai_node(ai_server),
            frontmatter="secrets: [FRONT_KEY]\nai:\n  api_key: FRONT_KEY\n",
        )
    )
    code, message = failure(flow_run)
    assert code == "RUNTIME_INVALID_CONFIG"
    assert "'FRONT_KEY' named by the frontmatter's ai.api_key has no value" in message


# --- the key never leaks -------------------------------------------------------------


def test_the_key_never_leaves_the_request(
    ai_server: AIServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 401 whose body quotes the key (as OpenAI's does), then a 500 echoing it with
    a retry: the key reaches the server, and nothing else, API or CLI."""
    key = "sk-or-" + token_source.token_urlsafe(24)
    echo = f"Incorrect API key provided: {key}"
    node = ai_node(
        ai_server,
        children="<user>x</user>"
        '<on-error><retry max="1" base="10ms" when="$error.status >= 500"/></on-error>',
    )
    path = write_flow(tmp_path, node, frontmatter="secrets: [OPENROUTER_API_KEY]\n")

    # through the API
    caplog.set_level(logging.DEBUG)
    ai_server.script(error(500, echo), error(401, echo))
    flow_run = run(path, secrets={"OPENROUTER_API_KEY": key})
    assert flow_run.status is RunStatus.FAILED
    assert [r.headers["authorization"] for r in ai_server.requests] == [
        f"Bearer {key}"
    ] * 2
    code, message = failure(flow_run)
    assert code == "API_ERROR"
    assert message == "Invalid API key (HTTP 401): Incorrect API key provided: ***"
    views = [
        message,
        repr(flow_run.results["ask"]),
        json.dumps(flow_run.report(), default=str),
        flow_run.log_markdown,
        caplog.text,
    ]
    for view in views:
        assert key not in view

    # through the CLI: the JSON report, the log in the flow file, the checkpoint
    ai_server.script(error(500, echo), error(401, echo))
    env = {**os.environ, "OPENROUTER_API_KEY": key}
    result = subprocess.run(
        [str(MAIDIT), "run", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert len(ai_server.requests) == 4  # the CLI's run reached the server too
    assert key not in result.stdout
    assert key not in result.stderr
    flow_text = path.read_text(encoding="utf-8")
    assert "## Execution Log" in flow_text
    assert key not in flow_text
    written = [p for p in (tmp_path / ".maidit-state").rglob("*") if p.is_file()]
    assert written
    for file in written:
        assert key.encode() not in file.read_bytes(), file


def test_usage_reaches_the_json_report(ai_server: AIServer, tmp_path: Path) -> None:
    ai_server.script(text("hi", usage=(7, 3)))
    path = write_flow(tmp_path, ai_node(ai_server))
    result = subprocess.run(
        [str(MAIDIT), "run", str(path), "--format", "json", "--no-log"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["nodes"]["ask"]["meta"]["usage"] == {
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "total_tokens": 10,
    }


# --- the pieces --------------------------------------------------------------------


def test_conform_reports_paths() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "number"}},
            "b": {
                "type": "object",
                "properties": {"c": {"type": "boolean"}},
                "required": ["c"],
                "additionalProperties": False,
            },
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    assert conform({"a": [1, "x", True], "b": {}}, schema)[1] == [
        "a[1]: expected number, got string",
        "a[2]: expected number, got boolean",
        "b.c: required field is missing",
    ]
    assert conform([], schema)[1] == ["(root): expected object, got array"]
    value, errors = conform({"a": [], "b": {"c": False, "d": 1}}, schema)
    assert (value, errors) == ({"a": [], "b": {"c": False}}, [])


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        (" 0.5 ", 0.5),
        ("-3", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: no wait
    ],
)
def test_retry_after(header: str, seconds: float | None) -> None:
    expected = None if seconds is None else seconds * 1000
    assert parse_retry_after_ms(header) == expected


@pytest.mark.parametrize(
    ("frontmatter", "reason"),
    [
        ("http:\n  deny_hosts: [private]\n", "private address"),
        ("http:\n  allow_hosts: [api.example.com]\n", "not in http.allow_hosts"),
    ],
)
def test_the_flows_egress_policy_applies_to_ai_nodes(
    ai_server: AIServer, tmp_path: Path, frontmatter: str, reason: str
) -> None:
    """The frontmatter's http section binds AI nodes as it binds HTTP nodes: the
    request is refused before it connects, and not retried."""
    flow = write_flow(tmp_path, ai_node(ai_server), frontmatter=frontmatter)
    flow_run = run(flow)
    code, message = failure(flow_run)
    assert code == "RUNTIME_EGRESS_BLOCKED", message
    assert reason in message
    assert ai_server.requests == []
    assert flow_run.results["ask"].attempts == 1


def test_a_secret_in_the_prompt_is_refused_unless_allowed(
    ai_server: AIServer, tmp_path: Path
) -> None:
    """A secret templated into a prompt would be sent to the model as text: the node
    fails naming it and no request is made, unless it says allow-secrets="true"."""
    frontmatter = "secrets: [DB_PASSWORD]\n"
    children = "<user>The password is {{ $secrets.DB_PASSWORD }}</user>"
    flow = write_flow(
        tmp_path, ai_node(ai_server, children=children), frontmatter=frontmatter
    )
    flow_run = run(flow, secrets={"DB_PASSWORD": "hunter2-long"})
    code, message = failure(flow_run)
    assert code == "RUNTIME_SECRET_EXPOSED", message
    assert "DB_PASSWORD" in message
    assert ai_server.requests == []
    allowed = write_flow(
        tmp_path,
        ai_node(ai_server, attrs='allow-secrets="true"', children=children),
        frontmatter=frontmatter,
        name="allowed.flow.md",
    )
    ai_server.script(text("noted"))
    flow_run = run(allowed, secrets={"DB_PASSWORD": "hunter2-long"})
    assert flow_run.status is RunStatus.COMPLETED, flow_run.results["ask"]
    assert len(ai_server.requests) == 1
    meta = flow_run.results["ask"].meta
    assert meta is not None
    assert meta["secrets_sent"] == ["DB_PASSWORD"]
