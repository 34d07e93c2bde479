# roasbot's image: the package and its console script, run as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . .
RUN pip install . && useradd --create-home --uid 10001 roasbot

USER roasbot
WORKDIR /home/roasbot
ENTRYPOINT ["roasbot"]
CMD ["--help"]
