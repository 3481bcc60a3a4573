# labelcheck: `make run` sets everything up and checks the bundled sample media; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
APT    := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get

.PHONY: run test fixtures tools test-tools venv lint bench docs clean fuzz

# Debian packages for the external tools, installed only when missing (libheif's heif-convert gives the HTML report
# thumbnails of HEIC/AVIF images; the tests make such images with its heif-enc).
tools:
	@if ! command -v exiftool >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1 || ! command -v heif-convert >/dev/null 2>&1; then \
	  echo "installing exiftool, ffmpeg and libheif's tools from Debian packages"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends libimage-exiftool-perl ffmpeg libheif-examples >/dev/null; \
	fi

# The HTML report is checked in a real browser by the tests: Debian's Chromium, installed when missing.
test-tools: tools
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing chromium from Debian packages (for the HTML report test)"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends chromium >/dev/null; \
	fi
	@if [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc ] || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]; then \
	  echo "installing fonts-noto-cjk and fonts-dejavu-core from Debian packages (labels drawn for the OCR tests)"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends fonts-noto-cjk fonts-dejavu-core >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { $(APT) update -qq && $(APT) install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# Check the bundled sample media (fixtures/media, signed by the test CA in fixtures/certs).
# The samples include non-compliant and broken files on purpose: exit codes 1 and 5 are expected here.
run: tools venv
	@$(BIN)/labelcheck check --format table --trust-anchors fixtures/certs/test-ca.pem fixtures/media; \
	code=$$?; echo "labelcheck exit code: $$code (0 pass, 1 non-compliant item, 5 item could not be checked)"; \
	[ $$code -eq 0 ] || [ $$code -eq 1 ] || [ $$code -eq 5 ]

test: test-tools venv
	@$(BIN)/python -m pytest -q; code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest ran no tests: that is a failure" >&2; exit 1; fi; exit $$code

# Regenerate fixtures/media with real tools (new keys and UUIDs; commit the result with fixtures/manifest.json).
fixtures: tools venv
	$(BIN)/python fixtures/make_fixtures.py

# Throughput, scaling and memory against the raw floor (c2pa-python + one exiftool process), in one run.
bench: tools venv
	$(BIN)/python bench/bench.py

# Fuzz (not part of `make test`): SEED's N mutants of the sample media and corpus through `labelcheck check`, and
# REQUESTS schemathesis requests plus hostile cases against `labelcheck serve` (fuzz/). Everything runs in a network
# namespace with loopback alone (unshare -n as root, unshare -rn otherwise): fuzzed URL submissions reach nothing
# outside it. Without unshare it fails, never runs unisolated. Figures on stdout, reports in build/fuzz.
SEED     ?= 20261122
N        ?= 400
REQUESTS ?= 400
fuzz: tools venv
	@command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 || { \
	  echo "make fuzz: unshare and ip (util-linux, iproute2) are required: the fuzz runs only in a network namespace with loopback alone" >&2; exit 1; }
	@userns=$$([ "$$(id -u)" -eq 0 ] || echo -r); \
	unshare $$userns -n sh -c 'ip link set lo up && exec $(BIN)/python -m fuzz --seed $(SEED) --n $(N) --requests $(REQUESTS)' \
	  || { code=$$?; echo "make fuzz: failed (exit $$code): a target missed, or the network namespace could not be made" >&2; exit $$code; }

# The documentation site (mkdocs.yml, docs/) into build/site; strict: a broken link or a page missing from nav fails.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d build/site

lint: venv
	$(BIN)/ruff check labelcheck tests
	$(BIN)/mypy labelcheck
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build dist .pytest_cache
