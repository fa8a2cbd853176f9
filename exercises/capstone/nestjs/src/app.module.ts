import { Module } from '@nestjs/common';
import { DemoController } from './demo/demo.controller';
import { HealthController } from './health/health.controller';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';

@Module({
  controllers: [HealthController, UsersController, DemoController],
  providers: [UsersService],
})
export class AppModule {}
