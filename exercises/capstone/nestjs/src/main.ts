// Capstone starter: the service contract (docs/service-contract.md) in NestJS,
// written the quick way. Every route answers, and nothing is production-ready yet:
// `course check .` lists what is missing. See README.md.
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  await app.listen(port, host);
  console.log(`Server listening on http://${host}:${port}`);
}
bootstrap();
