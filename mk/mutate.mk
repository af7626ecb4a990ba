# mk/mutate.mk - `make mutate`: the mutation check (scripts/mutate.sh,
# docs/testing.md). It applies deliberate bugs one at a time to a copy of
# the tree and fails unless the tests written to catch each one fail. Not
# part of `make test`; it needs ZooKeeper (the coord and cluster tests).
#
#   make mutate                  every mutation
#   make mutate MUTATE_ONLY=stop  only mutations whose name contains "stop"

MUTATE_ONLY ?=

.PHONY: mutate
mutate: zookeeper
	MUTATE_ONLY='$(MUTATE_ONLY)' scripts/mutate.sh
