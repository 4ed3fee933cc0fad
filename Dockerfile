# PartnerMap service image. Runs against DATABASE_URL (PostgreSQL + PostGIS in production);
# without it, a SQLite file in /app/var (for trying the image out only).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 partnermap \
    && useradd --system --uid 10001 --gid partnermap --home /app partnermap

COPY pyproject.toml README.md NOTICE ./
COPY app ./app
COPY bench ./bench
COPY matching ./matching
COPY geo ./geo
COPY migrations ./migrations
RUN pip install --no-cache-dir . && mkdir -p /app/var && chown partnermap:partnermap /app/var

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["python", "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health'); sys.exit(0)"]

# Migrations run at start so a new image brings its schema with it; they are idempotent.
CMD ["sh", "-c", "partnermap migrate && exec partnermap serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
