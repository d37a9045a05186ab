"""key persons, visits, patrols and door-knocking campaigns

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import zhili.models.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_index(op.f('ix_campaigns_region_code'), 'campaigns', ['region_code'], unique=False)
    op.create_table('visit_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('released', 'corrections', 'mental', 'drug', 'aids', 'youth', 'petition', name='keypersonkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('risk', sa.Enum('green', 'yellow', 'red', name='risk', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_rules')),
    sa.UniqueConstraint('kind', 'risk', name='uq_visit_rules_kind_risk')
    )
    op.create_table('key_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('released', 'corrections', 'mental', 'drug', 'aids', 'youth', 'petition', name='keypersonkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('risk', sa.Enum('green', 'yellow', 'red', name='risk', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('last_visit_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('visit_due_on', sa.Date(), nullable=True),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_key_persons_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_key_persons_resident_id_residents'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_persons')),
    sa.UniqueConstraint('resident_id', 'kind', name='uq_key_persons_resident_kind')
    )
    op.create_index(op.f('ix_key_persons_area_code'), 'key_persons', ['area_code'], unique=False)
    op.create_index(op.f('ix_key_persons_grid_id'), 'key_persons', ['grid_id'], unique=False)
    op.create_index(op.f('ix_key_persons_resident_id'), 'key_persons', ['resident_id'], unique=False)
    op.create_index(op.f('ix_key_persons_visit_due_on'), 'key_persons', ['visit_due_on'], unique=False)
    op.create_table('care_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('visit_overdue', 'checkin_missed', 'leave_overdue', 'risk_raised', name='warningkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('concerns_on', sa.Date(), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('raised_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['key_person_id'], ['key_persons.id'], name=op.f('fk_care_warnings_key_person_id_key_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_warnings')),
    sa.UniqueConstraint('key_person_id', 'kind', 'concerns_on', name='uq_care_warnings_once')
    )
    op.create_index(op.f('ix_care_warnings_area_code'), 'care_warnings', ['area_code'], unique=False)
    op.create_index(op.f('ix_care_warnings_cleared_at'), 'care_warnings', ['cleared_at'], unique=False)
    op.create_index(op.f('ix_care_warnings_key_person_id'), 'care_warnings', ['key_person_id'], unique=False)
    op.create_table('key_person_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('sign', 'locate', name='checkinkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['key_person_id'], ['key_persons.id'], name=op.f('fk_key_person_checkins_key_person_id_key_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_key_person_checkins_recorded_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_person_checkins'))
    )
    op.create_index('ix_key_person_checkins_person_at', 'key_person_checkins', ['key_person_id', 'at'], unique=False)
    op.create_table('key_person_helpers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('grid_worker', 'police', 'cadre', 'family', 'doctor', 'social_worker', name='helperkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['key_person_id'], ['key_persons.id'], name=op.f('fk_key_person_helpers_key_person_id_key_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_key_person_helpers_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_person_helpers'))
    )
    op.create_index(op.f('ix_key_person_helpers_key_person_id'), 'key_person_helpers', ['key_person_id'], unique=False)
    op.create_index(op.f('ix_key_person_helpers_staff_id'), 'key_person_helpers', ['staff_id'], unique=False)
    op.create_table('key_person_leaves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_person_id', sa.Integer(), nullable=False),
    sa.Column('destination', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'approved', 'rejected', 'returned', 'overdue', name='leavestate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('returned_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_key_person_leaves_decided_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['key_person_id'], ['key_persons.id'], name=op.f('fk_key_person_leaves_key_person_id_key_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_person_leaves'))
    )
    op.create_index(op.f('ix_key_person_leaves_key_person_id'), 'key_person_leaves', ['key_person_id'], unique=False)
    op.create_table('key_person_risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_person_id', sa.Integer(), nullable=False),
    sa.Column('old', sa.Enum('green', 'yellow', 'red', name='old_risk', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('new', sa.Enum('green', 'yellow', 'red', name='new_risk', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['key_person_id'], ['key_persons.id'], name=op.f('fk_key_person_risks_key_person_id_key_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_key_person_risks_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_person_risks'))
    )
    op.create_index(op.f('ix_key_person_risks_key_person_id'), 'key_person_risks', ['key_person_id'], unique=False)
    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'patrol', 'door_knock', name='visitkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('started_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('key_person_id', sa.Integer(), nullable=True),
    sa.Column('house_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('trail', sa.JSON(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('seen', sa.Text(), nullable=False),
    sa.Column('found_problem', sa.Boolean(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=True),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_visits_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_visits_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['house_id'], ['houses.id'], name=op.f('fk_visits_house_id_houses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['key_person_id'], ['key_persons.id'], name=op.f('fk_visits_key_person_id_key_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_visits_staff_id_staff'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_visits_work_order_id_work_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('client_key', name=op.f('uq_visits_client_key'))
    )
    op.create_index(op.f('ix_visits_area_code'), 'visits', ['area_code'], unique=False)
    op.create_index(op.f('ix_visits_campaign_id'), 'visits', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_visits_grid_id'), 'visits', ['grid_id'], unique=False)
    op.create_index(op.f('ix_visits_house_id'), 'visits', ['house_id'], unique=False)
    op.create_index(op.f('ix_visits_key_person_id'), 'visits', ['key_person_id'], unique=False)
    op.create_index(op.f('ix_visits_staff_id'), 'visits', ['staff_id'], unique=False)
    op.create_index(op.f('ix_visits_started_at'), 'visits', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_visits_started_at'), table_name='visits')
    op.drop_index(op.f('ix_visits_staff_id'), table_name='visits')
    op.drop_index(op.f('ix_visits_key_person_id'), table_name='visits')
    op.drop_index(op.f('ix_visits_house_id'), table_name='visits')
    op.drop_index(op.f('ix_visits_grid_id'), table_name='visits')
    op.drop_index(op.f('ix_visits_campaign_id'), table_name='visits')
    op.drop_index(op.f('ix_visits_area_code'), table_name='visits')
    op.drop_table('visits')
    op.drop_index(op.f('ix_key_person_risks_key_person_id'), table_name='key_person_risks')
    op.drop_table('key_person_risks')
    op.drop_index(op.f('ix_key_person_leaves_key_person_id'), table_name='key_person_leaves')
    op.drop_table('key_person_leaves')
    op.drop_index(op.f('ix_key_person_helpers_staff_id'), table_name='key_person_helpers')
    op.drop_index(op.f('ix_key_person_helpers_key_person_id'), table_name='key_person_helpers')
    op.drop_table('key_person_helpers')
    op.drop_index('ix_key_person_checkins_person_at', table_name='key_person_checkins')
    op.drop_table('key_person_checkins')
    op.drop_index(op.f('ix_care_warnings_key_person_id'), table_name='care_warnings')
    op.drop_index(op.f('ix_care_warnings_cleared_at'), table_name='care_warnings')
    op.drop_index(op.f('ix_care_warnings_area_code'), table_name='care_warnings')
    op.drop_table('care_warnings')
    op.drop_index(op.f('ix_key_persons_visit_due_on'), table_name='key_persons')
    op.drop_index(op.f('ix_key_persons_resident_id'), table_name='key_persons')
    op.drop_index(op.f('ix_key_persons_grid_id'), table_name='key_persons')
    op.drop_index(op.f('ix_key_persons_area_code'), table_name='key_persons')
    op.drop_table('key_persons')
    op.drop_table('visit_rules')
    op.drop_index(op.f('ix_campaigns_region_code'), table_name='campaigns')
    op.drop_table('campaigns')
