#!/usr/bin/python3
"""Parses Prometheus text exposition (0.0.4) from stdin with the reference
Python client's parser (Debian: python3-prometheus-client) and prints the
families as JSON: [{"name", "type", "samples": [{"name", "labels", "value"}]}].
Exits 1 with the parser's message when the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.buffer.read().decode("utf-8")
try:
    families = [
        {
            "name": f.name,
            "type": f.type,
            "samples": [
                {"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples
            ],
        }
        for f in text_string_to_metric_families(text)
    ]
except Exception as e:  # the parser raises ValueError and friends
    print(f"does not parse: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
json.dump(families, sys.stdout)
