# A small image that runs the bot as a non-root user, with the SQLite file on a volume.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=8080 LOG_LEVEL=INFO
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-compile . && useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data
COPY content ./content
COPY config.example.yaml ./config.example.yaml
USER bot
VOLUME ["/data"]
EXPOSE 8080
# Mount your config.yaml at /app/config.yaml; set storage.database to /data/desa-imigrasi.sqlite3.
CMD ["desa-imigrasi", "run"]
