FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md requirements.lock ./
COPY distributor ./distributor
COPY workers ./workers
COPY templates ./templates
RUN pip install --no-cache-dir -c requirements.lock -e .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["distributor", "serve", "--host", "0.0.0.0", "--no-embedded"]
