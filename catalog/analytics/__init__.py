"""Collection analytics of the consortium: which member holds which union record, seen together.

A union record is *held* by a member when one of the member's active source records belongs to it
(holdings rows are not needed: a member whose export carries no items still holds the title). From
that, for the whole consortium and for each member:

- :mod:`~catalog.analytics.overlap`: the overlap matrix, the union records held by both of two members;
- :mod:`~catalog.analytics.unique`: the titles held by one member alone, counted and listed;
- :mod:`~catalog.analytics.breakdowns`: how many members hold each title (1, 2, 3 ... N), and the
  titles by subject class, language, decade and material type (:mod:`~catalog.analytics.dimensions`);
- :mod:`~catalog.analytics.growth`: records added, updated and deleted per member and month, from the
  jobs' history.

The first three read summary tables (:mod:`~catalog.analytics.tables`) that
:mod:`~catalog.analytics.cache` keeps current after every job, from a log of the union records that
changed, so that a reader never waits for a scan of the catalogue.
"""
