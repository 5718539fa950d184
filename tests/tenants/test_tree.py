"""The tree's questions (tenants/tree.py): escalation chain, subtree, containment."""

from __future__ import annotations

from tenants.tree import Tree, ancestor_ids, is_in_subtree, kind_rank, subtree_ids


def test_tree_questions_on_a_hand_built_tree():
    #   1 city ── 2 district ── 4 enterprise
    #         └── 3 district ── 5 enterprise ── (6 points at 5)
    tree = Tree({1: None, 2: 1, 3: 1, 4: 2, 5: 3, 6: 5})
    assert tree.ancestors(4) == [2, 1]
    assert tree.ancestors(1) == []
    assert tree.subtree(3) == {3, 5, 6}
    assert tree.subtree(4) == {4}
    assert tree.contains(1, 6) and tree.contains(3, 3)
    assert not tree.contains(2, 5) and not tree.contains(4, 2)
    assert sorted(tree.children_of(1)) == [2, 3]


def test_a_cycle_in_bad_data_does_not_hang():
    tree = Tree({1: 2, 2: 1})
    assert tree.ancestors(1) == [2]
    assert tree.subtree(1) == {1, 2}


def test_kind_rank_follows_the_tree_from_the_root():
    assert kind_rank("city_center") < kind_rank("district_center") < kind_rank("enterprise_committee")
    assert kind_rank("unknown") > kind_rank("union")


async def test_database_questions_follow_the_rows(world):
    city, district, other, enterprise = (world.tenants[k]["id"] for k in ("city", "a", "b", "ent_a"))
    assert await ancestor_ids(enterprise) == [district, city]
    assert await subtree_ids(district) == {district, enterprise}
    assert other not in await subtree_ids(district) and city not in await subtree_ids(district)
    assert await is_in_subtree(city, enterprise)
    assert not await is_in_subtree(enterprise, district)
    assert not await is_in_subtree(other, enterprise)
