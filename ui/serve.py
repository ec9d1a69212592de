"""``python -m ui.serve run app.py ...``: ``streamlit run``, with deep links working from the first request.

Streamlit treats a ``pages/`` folder next to the entry script as an old-style multipage app until the
first ``st.navigation`` call of the process switches that off. Until then a first request straight to a
deep link (``/progress?project=3``) would run the page file alone, without the router (app.py) that sets
up the sidebar, the connection and the project. This app always routes with ``st.navigation``, so the
switch is set before the server starts. The same flag is what ``tests/app/conftest.py`` sets.
"""

from __future__ import annotations

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


def main() -> None:
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
