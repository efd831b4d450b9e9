"""How far a run that is still going has got, read the way a second process would: read-only,
never waiting on the writer."""
import sqlite3
from pathlib import Path


def finished_matches(run_dir: Path) -> int:
    """Matches stored as finished in run_dir's store so far (0 before it exists)."""
    try:
        db = sqlite3.connect(f"file:{Path(run_dir) / 'arena.sqlite'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT COUNT(*) FROM matches WHERE status='finished'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0
