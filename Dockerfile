# 工会助手: `python -m bot run` on PostgreSQL + Redis (see docker-compose.yml).
# Any number of these containers may run behind the webhook.

# -- build: compile the catalogues, install the project into a venv ----------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY models/ models/
COPY scheduler/ scheduler/
COPY locales/ locales/

# `make compile`, then install: the wheel force-includes the top-level locales/
# folder, compiled .mo files included, next to the packages in site-packages.
RUN pip install --no-cache-dir "babel>=2.16,<3" \
 && pybabel compile -d locales -D messages \
 && pip install --no-cache-dir .

# -- runtime: the venv only, no sources, no build tools -----------------------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UNIONBOT_DATA_DIR=/app/data \
    UNIONBOT_HTTP_HOST=0.0.0.0 \
    UNIONBOT_HTTP_PORT=8080

RUN groupadd --system --gid 10001 unionbot \
 && useradd --system --uid 10001 --gid unionbot --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin unionbot \
 && mkdir -p /app/data \
 && chown -R unionbot:unionbot /app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Fail the build, not a member's first message, if the catalogues did not make it.
RUN python -c "import sys; from handlers.core.i18n import LOCALES_DIR as d, SUPPORTED_LOCALES as ls; \
missing = [l for l in ls if not (d / l / 'LC_MESSAGES' / 'messages.mo').is_file()]; \
sys.exit(f'no compiled catalogue for {missing} under {d}' if missing else 0)"

# The embedded SQLite file (when UNIONBOT_DATABASE_URL is unset) and data.key live here.
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 8080
CMD ["python", "-m", "bot", "run"]
