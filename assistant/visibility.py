"""Which rows of an index one search may rank: access control and superseded versions.

Rows a viewer's groups may not read are excluded before ranking (retrieval.py passes the mask
to FAISS, BM25 and the exact-citation lookup). A regulation superseded by a newer version (same
title, later date) is hidden too, unless the question names a year: then the version in force in
that year stays. Versions are compared only among the documents the viewer may read, so a newer
version someone may not read hides nothing and shows nowhere.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ingest.access import can_read
from ingest.index import Generation

from .citations import named_years


class Visibility:
    """Row masks of one loaded generation, cached per distinct set of groups."""

    def __init__(
        self, gen: Generation, titles: dict[str, str], doc_ids: list[str], doc_of: np.ndarray
    ) -> None:
        self.gen, self.titles, self.doc_ids, self.doc_of = gen, titles, doc_ids, doc_of
        self.n = len(gen.chunks)
        self.rows_of_doc: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(gen.chunks):
            self.rows_of_doc[c.doc_id].append(i)
        self.restricted = np.array([bool(c.groups) for c in gen.chunks], dtype=bool)
        self.superseded = self._superseded_docs()
        self._masks: dict[frozenset[str], np.ndarray] = {}
        self._versions: dict[frozenset[str], dict[str, str]] = {}

    def _superseded_docs(self, readable: set[str] | None = None) -> dict[str, str]:
        """doc id -> id of the newer version that replaces it (same title, later date), among
        the documents ``readable`` (None: all): a version the viewer may not read replaces none,
        and its existence shows nowhere."""
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for doc_id, info in self.gen.documents.items():
            if info.version_date and (readable is None or doc_id in readable):
                groups[self.titles[doc_id]].append((info.version_date, doc_id))
        out = {}
        for versions in groups.values():
            newest = max(date for date, _ in versions)
            winner = next(d for date, d in versions if date == newest)
            out.update({d: winner for date, d in versions if date < newest})
        return out

    def allowed(self, groups: frozenset[str] | None, question: str) -> np.ndarray:
        """Rows this search may rank: readable by ``groups``, not a superseded version."""
        allowed = (
            self._group_mask(groups)
            if groups is not None and self.restricted.any()
            else np.ones(self.n, dtype=bool)
        ).copy()
        for doc_id in self._hidden_versions(question, self._superseded_for(groups, allowed)):
            allowed[self.rows_of_doc[doc_id]] = False
        return allowed

    def _superseded_for(self, groups: frozenset[str] | None, readable_rows: np.ndarray):
        """``_superseded_docs`` among the documents ``groups`` may read (cached per groups)."""
        if groups is None or not self.restricted.any():
            return self.superseded
        found = self._versions.get(groups)
        if found is None:
            docs = {self.doc_ids[i] for i in np.unique(self.doc_of[readable_rows])}
            found = self._versions[groups] = self._superseded_docs(docs)
        return found

    def _group_mask(self, groups: frozenset[str]) -> np.ndarray:
        """Rows ``groups`` may read; computed once per distinct set of groups."""
        mask = self._masks.get(groups)
        if mask is None:
            mask = np.array([can_read(c.groups, groups) for c in self.gen.chunks], dtype=bool)
            self._masks[groups] = mask
        return mask

    def _hidden_versions(self, question: str, superseded: dict[str, str]) -> list[str]:
        if not superseded:
            return []
        years = named_years(question)
        if not years:
            return list(superseded)
        hidden = []
        by_title: dict[str, list[str]] = defaultdict(list)
        for doc_id in {*superseded, *superseded.values()}:
            by_title[self.titles[doc_id]].append(doc_id)
        for ids in by_title.values():
            dated = sorted(ids, key=lambda d: self.gen.documents[d].version_date or "")
            keep = dated[-1]
            for year in years:  # the latest version in force in the named year
                fitting = [d for d in dated if int(self.gen.documents[d].version_date[:4]) <= year]
                keep = fitting[-1] if fitting else dated[0]
            hidden += [
                d
                for d in dated
                if d != keep
                and self.gen.documents[d].version_date != self.gen.documents[keep].version_date
            ]
        return hidden
