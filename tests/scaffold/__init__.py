"""``nox -s new``: the topic template and the script that starts a topic from it (see new_topic.py)."""
