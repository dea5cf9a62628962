"""Create the automations in the given YAML files on the current Prefect server.

Prefect's own `prefect automation create --from-file` wants deployment ids, which
differ per server; our files name deployments (`deployment_name: flow/deployment`)
and this script looks the ids up first.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from prefect.client.orchestration import get_client
from prefect.events.schemas.automations import AutomationCore


def resolve(data: dict[str, Any]) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        for action in data.get("actions", []):
            name = action.pop("deployment_name", None)
            if name is not None:
                action["deployment_id"] = str(client.read_deployment_by_name(name).id)
    return data


def main(paths: list[str]) -> int:
    with get_client(sync_client=True) as client:
        for path in paths:
            data = resolve(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
            automation_id = client.create_automation(AutomationCore.model_validate(data))
            print(f"created automation '{data['name']}' ({automation_id}) from {path}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
