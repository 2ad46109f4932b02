"""Concurrency: many clients edit the same design; no acknowledged revision is lost, conflicts answer 409.

Each client reads the head, writes a revision with ``If-Match: <head>`` and, on 409, reads
again and retries (what a careful client does). Afterwards the history must hold every
acknowledged revision as one unbroken parent chain; no answer may be other than 201 or 409.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

DESIGN = "/designs/lab/ethernet-800vdc"
CLIENTS, EDITS = 8, 3


def _edit(server, client_id: int, content: str) -> tuple[list[str], list[int]]:
    acknowledged, statuses = [], []
    with server.client("lab-engineer") as client:
        for edit in range(EDITS):
            while True:
                head = client.get(DESIGN).json()["head_revision"]
                body = {"content": content.replace("description: ", f"description: c{client_id} e{edit} ", 1),
                        "message": f"client {client_id} edit {edit}"}
                response = client.post(f"{DESIGN}/revisions", json=body, headers={"If-Match": head})
                statuses.append(response.status_code)
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                    break
                if response.status_code != 409:
                    return acknowledged, statuses
    return acknowledged, statuses


def test_no_update_is_lost(db_url, live_server):
    server = live_server(db_url)
    with server.client("lab-viewer") as viewer:
        first = viewer.get(DESIGN).json()
    content = first["head"]["content"]
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda i: _edit(server, i, content), range(CLIENTS)))
    acknowledged = [rev for acks, _ in results for rev in acks]
    statuses = [s for _, codes in results for s in codes]
    assert set(statuses) <= {201, 409}, sorted(set(statuses))
    assert len(acknowledged) == CLIENTS * EDITS
    with server.client("lab-viewer") as viewer:
        history = viewer.get(f"{DESIGN}/revisions").json()
    assert {r["id"] for r in history} == set(acknowledged) | {first["head_revision"]}
    chain = sorted(history, key=lambda r: r["number"])
    assert [r["number"] for r in chain] == list(range(1, len(chain) + 1))
    assert all(b["parent"] == a["id"] for a, b in zip(chain, chain[1:]))


def test_a_stale_write_is_refused_and_stores_nothing(db_url, live_server):
    server = live_server(db_url)
    with server.client("lab-engineer") as client:
        design = client.get(DESIGN).json()
        body = {"content": design["head"]["content"] + "\n# edit\n", "message": "first"}
        assert client.post(f"{DESIGN}/revisions", json=body, headers={"If-Match": design["head_revision"]}).status_code == 201
        stale = client.post(f"{DESIGN}/revisions", json={**body, "message": "second"},
                            headers={"If-Match": design["head_revision"]})
        assert stale.status_code == 409 and stale.json()["head"] != design["head_revision"]
        assert [r["message"] for r in client.get(f"{DESIGN}/revisions").json()] == ["first", "import ethernet-800vdc.yaml"]


def test_simultaneous_creation_of_one_design_keeps_one(db_url, live_server):
    server = live_server(db_url)
    content = server.client("lab-viewer").get(DESIGN).json()["head"]["content"]
    barrier = threading.Barrier(6)

    def create(_):
        with server.client("lab-engineer") as client:
            barrier.wait()
            return client.post("/designs", json={"name": "twin", "content": content}).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(create, range(6)))
    assert statuses == [201] + [409] * 5
