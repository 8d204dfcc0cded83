#!/usr/bin/env bash
# The main job on the shipped synthetic sample: de-identify sample_data/notes.jsonl into
# validated Parquet shards + manifest + audit report under out/sample/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DEIDFLOW_KEY:-}" ]; then
  # Demo only: a random local key kept out of git, so reruns give the same surrogates.
  # Real runs take the key from the environment or a Prefect Secret block.
  mkdir -p .deidflow && chmod 700 .deidflow
  [ -s .deidflow/demo.key ] || (umask 077; python3 -c 'import secrets; print(secrets.token_hex(32))' > .deidflow/demo.key)
  DEIDFLOW_KEY="$(cat .deidflow/demo.key)"
  export DEIDFLOW_KEY
  echo "demo: using the local demo key in .deidflow/demo.key (set DEIDFLOW_KEY to use your own)" >&2
fi
.venv/bin/deidflow run pipelines/examples/sample.yaml
echo >&2
echo "detector accuracy on the same sample (synthetic gold spans):" >&2
.venv/bin/deidflow evaluate sample_data/notes.jsonl
