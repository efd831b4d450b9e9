"""The fault server itself: both wire formats, its schedule, and its thread mode."""
from __future__ import annotations

import openai
import pytest

from tests.support.fault_server import FaultServer


def test_it_serves_from_a_thread_to_synchronous_clients():
    with FaultServer(text=["one", "two"], model_name="m-x") as srv:
        client = openai.OpenAI(base_url=srv.openai_url, api_key="k", max_retries=0)
        models = [m.id for m in client.models.list()]
        answers = [client.chat.completions.create(model="m-x", messages=[{"role": "user", "content": "hi"}]
                                                  ).choices[0].message.content for _ in range(3)]
        client.close()
    assert models == ["m-x"] and answers == ["one", "two", "one"]


def test_scheduled_faults_come_first_then_the_seeded_failure_rate():
    with FaultServer(faults=["503"], failure_rate=0.5, failure_kinds=("500",), seed=4) as srv:
        client = openai.OpenAI(base_url=srv.openai_url, api_key="k", max_retries=0)
        outcomes = []
        for _ in range(40):
            try:
                client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
                outcomes.append("ok")
            except openai.InternalServerError as exc:
                outcomes.append(str(exc.status_code))
        client.close()
    assert outcomes[0] == "503"
    assert 8 <= outcomes.count("500") <= 32 and "ok" in outcomes
    assert srv.faults_sent["503"] == 1 and srv.faults_sent["500"] == outcomes.count("500")


def test_an_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        FaultServer(faults=["418"])
