"""Retake only the operator's screenshots (13-15) into docs/screenshots/
(run: .venv/bin/python docs/screenshots/capture_agent.py). The live chat and audit screenshots
(18-21) come from the browser test: PRABAYAR_SCREENSHOTS=docs/screenshots pytest tests/web/test_browser_chat.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import ARGS, operator_shots

from prabayar.web.devserver import running_server


def main() -> int:
    chromium = os.environ.get("PRABAYAR_BROWSER", "/usr/bin/chromium")
    if not Path(chromium).exists():
        print(f"no chromium at {chromium}; install it with: make browser", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp)) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        operator_shots(browser, url)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
