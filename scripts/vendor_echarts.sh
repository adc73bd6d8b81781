#!/usr/bin/env bash
# Vendor ECharts into the wheel so the dashboard works offline: installs the version pinned in
# package.json with npm and copies the minified build and its licence into web/static/vendor/.
# The copied files are committed, so a fresh clone needs no npm; run this only to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/qunyun/web/static/vendor
npm install --no-audit --no-fund --ignore-scripts --no-package-lock
mkdir -p "$dest"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts.min.js"
cp node_modules/echarts/LICENSE "$dest/echarts.LICENSE"
[ -f node_modules/echarts/NOTICE ] && cp node_modules/echarts/NOTICE "$dest/echarts.NOTICE"
version=$(node -p "require('./node_modules/echarts/package.json').version")
echo "$version" > "$dest/echarts.VERSION"
echo "vendored echarts $version into $dest" >&2

# Swagger UI for the API docs page (/api/v1/docs), also offline.
sw=$dest/swagger-ui
mkdir -p "$sw"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE; do cp "node_modules/swagger-ui-dist/$f" "$sw/$f"; done
node -p "require('./node_modules/swagger-ui-dist/package.json').version" > "$sw/VERSION"
echo "vendored swagger-ui-dist $(cat "$sw/VERSION") into $sw" >&2
