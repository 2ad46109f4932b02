"""NetworkX check of a generated fabric (small sites): connected, bisection bandwidth, hop count.

The closed forms of :mod:`rackwright.site.fabric` give these figures at any size; on small fabrics the
graph built from the very same wiring must agree (tested in ``tests/test_site_fabric.py``):

* connected: :func:`networkx.is_connected` over endpoints and switches of one plane;
* bisection bandwidth: maximum flow (Edmonds–Karp via :func:`networkx.maximum_flow_value`) from a
  source joined to the endpoints of the first half of the pods (of the leaves, in 2 tiers) to a sink
  joined to the rest, each link of capacity ``s``; times the planes;
* hop count: switches on the longest shortest path from the first endpoint (breadth-first search);
  a fat tree looks the same from every endpoint.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .fabric import FabricSize, Wiring

MAX_GRAPH_LINKS = 200_000


def fabric_graph(size: FabricSize, wiring: Wiring) -> nx.Graph:
    """One plane as a graph; parallel links add up as one edge's ``capacity`` (in links)."""
    graph: nx.Graph[tuple[str, int]] = nx.Graph()
    endpoints = np.arange(size.endpoints)
    _add(graph, [("e", int(i)) for i in endpoints], [("leaf", int(x)) for x in wiring.leaf_of_endpoint])
    _add(
        graph, [("leaf", int(x)) for x in wiring.spine_link_leaf], [("spine", int(x)) for x in wiring.spine_link_spine]
    )
    _add(
        graph,
        [("spine", int(x)) for x in wiring.super_link_spine],
        [("super", int(x)) for x in wiring.super_link_super],
    )
    return graph


def _add(graph: nx.Graph, a: list, b: list) -> None:
    for u, v in zip(a, b, strict=True):
        if graph.has_edge(u, v):
            graph[u][v]["capacity"] += 1
        else:
            graph.add_edge(u, v, capacity=1)


def check_fabric(size: FabricSize, wiring: Wiring) -> dict:
    """Connectivity, bisection bandwidth [B/s, all planes] and max switch hops measured on the graph."""
    links = sum(size.links_by_tier.values())
    if links > MAX_GRAPH_LINKS:
        raise ValueError(f"{links:,} links: the graph check is for small fabrics (≤ {MAX_GRAPH_LINKS:,})")
    graph = fabric_graph(size, wiring)
    leaf = wiring.leaf_of_endpoint
    group = wiring.leaf_pod[leaf] if size.tiers == 3 and size.pods > 1 else leaf
    groups = np.unique(group)
    first = np.isin(group, groups[: len(groups) // 2])
    if first.all() or not first.any():
        first = np.arange(size.endpoints) < size.endpoints // 2
    flow_graph = graph.to_directed()
    for e in np.flatnonzero(first):
        flow_graph.add_edge("source", ("e", int(e)), capacity=float("inf"))
    for e in np.flatnonzero(~first):
        flow_graph.add_edge(("e", int(e)), "sink", capacity=float("inf"))
    cut_links = nx.maximum_flow_value(flow_graph, "source", "sink")
    distances = nx.single_source_shortest_path_length(graph, ("e", 0))
    longest = max(d for node, d in distances.items() if node[0] == "e")
    return {
        "connected": nx.is_connected(graph),
        "bisection_bandwidth": float(cut_links) * size.link_speed * size.planes,
        "max_switch_hops": longest - 1,
    }
