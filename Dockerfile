# The unioncat service. Dependencies are installed from constraints.txt: the same exact versions
# that `make` and CI install.

# The compiled mapping (catalog/native), built from the Rust crates Debian packages.
FROM python:3.11.11-slim-bookworm AS mapping
RUN apt-get update && apt-get install -y --no-install-recommends cargo librust-pyo3-dev librust-unicode-normalization-dev \
    && rm -rf /var/lib/apt/lists/*
COPY catalog/native /build/catalog/native
RUN python /build/catalog/native/build.py

FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 UNIONCAT_DATA_DIR=/var/lib/unioncat

RUN groupadd --system unioncat && useradd --system --gid unioncat --home-dir /app unioncat \
    && mkdir -p /var/lib/unioncat && chown unioncat:unioncat /var/lib/unioncat
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY catalog ./catalog
COPY harvest ./harvest
COPY api ./api
COPY --from=mapping /build/catalog/native/_mapping*.so ./catalog/native/
RUN pip install -c constraints.txt .

USER unioncat
EXPOSE 8000
# `serve` applies pending migrations before it listens, and starts a job worker beside it unless
# UNIONCAT_SERVE_WORKER=false (the compose file runs `unioncat worker` services apart instead).
CMD ["unioncat", "serve", "--host", "0.0.0.0", "--port", "8000"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"
