"""Blind human judgement: pairs of poems from a run, a local rating page, ratings in SQLite, and
how well each automatic metric agrees with people (``poetbench rate``)."""
