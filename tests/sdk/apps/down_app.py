"""An application whose Ember is not running when it starts:
`python down_app.py <endpoint> <batch: 0|1> <spans per phase>`.

Phase one ends `count` spans, flushing after each, so every span is its own export attempt;
prints "phase one done". It then waits for a line on stdin (the test starts Ember meanwhile),
ends `count` more spans the same way and prints "phase two done".
"""

import sys

from ember_sdk import register

endpoint, batch, count = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
provider = register(project_name="sdk-down-app", endpoint=endpoint, batch=batch)
tracer = provider.get_tracer("down_app")

for index in range(count):
    with tracer.start_as_current_span(f"before-{index}", openinference_span_kind="chain"):
        pass
    provider.force_flush()
print("phase one done", flush=True)

sys.stdin.readline()
for index in range(count):
    with tracer.start_as_current_span(f"after-{index}", openinference_span_kind="chain"):
        pass
    provider.force_flush()
print("phase two done", flush=True)
