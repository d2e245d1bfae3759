#!/usr/bin/env bash
# Drift detection for one Azure stack (.github/workflows/drift.yml): `pulumi preview --refresh
# --expect-no-changes` reads the real resources and compares them with the program. On drift it opens
# one issue per stack, or comments on the open one, with the summary: operation, resource URN and the
# names of the properties that differ, never their values, so no secret can reach the issue. When the
# stack is clean again an open drift issue is closed. Exit codes of the CLI are those of
# pulumi/pulumi pkg/cmd/pulumi/cmd/exit_codes.go (7: changes where none were expected).
# Usage: drift-check.sh <stack>. Needs pulumi (logged in), jq and gh (GH_TOKEN with issues: write).
set -euo pipefail

stack=$1
title="Drift: $stack stack"
label=drift
run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"

if ! pulumi stack select "$stack" >/dev/null 2>&1; then
  echo "::notice::stack $stack does not exist yet: nothing to compare"
  exit 0
fi

status=0
pulumi preview --refresh --expect-no-changes --json --stack "$stack" >preview.json || status=$?
existing=$(gh issue list --state open --label "$label" --search "in:title \"$title\"" --json number,title \
  --jq "map(select(.title == \"$title\")) | first | .number // empty")

case "$status" in
  0)
    echo "$stack: no drift"
    if [ -n "$existing" ]; then
      gh issue close "$existing" --comment "No drift in $run_url."
    fi
    ;;
  7)
    {
      echo "\`pulumi preview --refresh\` of \`$stack\` found differences between the stack and its resources ($run_url)."
      echo
      echo "| Operation | Resource | Properties |"
      echo "|---|---|---|"
      jq -r '.steps // [] | .[] | select(.op != "same" and .op != "read")
        | "| \(.op) | `\(.urn)` | \((.diffReasons // []) + (.replaceReasons // []) | unique | join(", ")) |"' preview.json
      echo
      echo "Changes by operation: $(jq -c '.changeSummary // {}' preview.json)"
      echo
      echo "Run \`pulumi refresh --stack $stack\` to accept what changed outside Pulumi, or \`pulumi up\` to restore the program's state."
    } >drift.md
    gh label create "$label" --description "Infrastructure drift found by drift.yml" --color D93F0B --force >/dev/null
    if [ -n "$existing" ]; then
      gh issue edit "$existing" --body-file drift.md
      gh issue comment "$existing" --body "Still drifting in $run_url."
    else
      gh issue create --title "$title" --label "$label" --body-file drift.md
    fi
    echo "::warning::$stack has drifted"
    exit 1
    ;;
  *)
    echo "::error::pulumi preview failed for $stack (exit $status)"
    jq -r '.diagnostics // [] | .[] | select(.severity == "error") | .message' preview.json 2>/dev/null || true
    exit "$status"
    ;;
esac
