FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY distributor ./distributor
COPY workers ./workers
COPY templates ./templates
RUN pip install --no-cache-dir -e .
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["distributor", "serve", "--host", "0.0.0.0", "--no-embedded"]
