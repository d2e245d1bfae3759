#!/usr/bin/env bash
# Commits what `npm run promote` changed (the stack file and argocd/apps) to main and prints the
# commit as `sha=<sha>` into $GITHUB_OUTPUT. A push by the workflow's token starts no workflow, so the
# promotion does not trigger itself; the calling workflow deploys the commit it gets back.
# Usage: commit-promotion.sh "<message>"
set -euo pipefail

message=$1
git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
paths=(Pulumi.*.yaml)
if [ -d argocd/apps ]; then paths+=(argocd/apps); fi
git add -- "${paths[@]}"
if git diff --cached --quiet; then
  echo "Nothing to promote: the tags are already there."
else
  git commit --quiet -m "$message"
  # main may have moved since the checkout: replay the promotion on top, a few times at most.
  for attempt in 1 2 3; do
    if git push --quiet origin HEAD:main; then break; fi
    if [ "$attempt" = 3 ]; then
      echo "::error::could not push the promotion to main"
      exit 1
    fi
    git pull --quiet --rebase origin main
  done
fi
echo "sha=$(git rev-parse HEAD)" >> "$GITHUB_OUTPUT"
