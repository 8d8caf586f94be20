"""Hypothesis strategies for liabilities: any, and those every ruling rule accepts."""

import string

from hypothesis import strategies as st

from contracts.ruling import LiabilityCategory, PartyLiability

FULL = LiabilityCategory.FULL
PRIMARY = LiabilityCategory.PRIMARY
EQUAL = LiabilityCategory.EQUAL
SECONDARY = LiabilityCategory.SECONDARY
NONE = LiabilityCategory.NONE

party_ids = st.lists(
    st.sampled_from(string.ascii_uppercase), min_size=2, max_size=5, unique=True
)


@st.composite
def any_liabilities(draw: st.DrawFn) -> list[PartyLiability]:
    """Liabilities with any category and share, mostly near the valid ones."""
    parties = draw(party_ids)
    shares = st.one_of(
        st.integers(0, 100), st.sampled_from([0, 1, 30, 33, 34, 50, 70, 99, 100])
    )
    return [
        PartyLiability(
            party_id=party,
            category=draw(st.sampled_from(LiabilityCategory)),
            share=draw(shares),
        )
        for party in parties
    ]


def _split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + 1 if index < extra else base for index in range(parts)]


@st.composite
def valid_liabilities(draw: st.DrawFn) -> list[PartyLiability]:
    """Liabilities that every rule accepts, of each of the three kinds."""
    parties = draw(party_ids)
    kind = draw(st.sampled_from(["full", "equal", "primary"]))

    if kind == "full":
        liable = draw(st.sampled_from(parties))
        return [
            PartyLiability(
                party_id=party,
                category=FULL if party == liable else NONE,
                share=100 if party == liable else 0,
            )
            for party in parties
        ]
    if kind == "equal":
        count = draw(st.integers(2, len(parties)))
        shares = _split_evenly(100, count)
        return [
            PartyLiability(party_id=party, category=EQUAL, share=shares[index])
            if index < count
            else PartyLiability(party_id=party, category=NONE, share=0)
            for index, party in enumerate(parties)
        ]

    secondaries = draw(st.integers(1, len(parties) - 1))
    # Each secondary share is at most 99 // (secondaries + 1), so the primary
    # party's remainder of 100 is larger than each of them.
    secondary_shares = draw(
        st.lists(
            st.integers(1, 99 // (secondaries + 1)),
            min_size=secondaries,
            max_size=secondaries,
        )
    )
    primary_share = 100 - sum(secondary_shares)
    liabilities = [
        PartyLiability(party_id=parties[0], category=PRIMARY, share=primary_share)
    ]
    liabilities += [
        PartyLiability(party_id=party, category=SECONDARY, share=share)
        for party, share in zip(parties[1:], secondary_shares, strict=False)
    ]
    liabilities += [
        PartyLiability(party_id=party, category=NONE, share=0)
        for party in parties[1 + secondaries :]
    ]
    return liabilities
