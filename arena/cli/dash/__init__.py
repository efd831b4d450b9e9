"""`arena dash`: the terminal dashboard (a Textual app) that launches, watches, compares and exports.

It never owns a run: tournaments and loops are `arena` processes of their own writing their run
directory's store; the app reads stores read-only, on a timer, off the UI thread.
"""
