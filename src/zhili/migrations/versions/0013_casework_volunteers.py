"""disputes, petitions, reception days, volunteers and household links

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import zhili.models.base


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('volunteer_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('leader_name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_teams'))
    )
    op.create_index(op.f('ix_volunteer_teams_area_code'), 'volunteer_teams', ['area_code'], unique=False)
    op.create_table('volunteer_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['volunteer_teams.id'], name=op.f('fk_volunteer_activities_team_id_volunteer_teams'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_activities'))
    )
    op.create_index(op.f('ix_volunteer_activities_area_code'), 'volunteer_activities', ['area_code'], unique=False)
    op.create_index(op.f('ix_volunteer_activities_on'), 'volunteer_activities', ['on'], unique=False)
    op.create_index(op.f('ix_volunteer_activities_team_id'), 'volunteer_activities', ['team_id'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case', sa.String(length=10), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('staff_name', sa.String(length=50), nullable=False),
    sa.Column('at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_case_events_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index('ix_case_events_case', 'case_events', ['case', 'case_id', 'id'], unique=False)
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('scale', sa.Enum('general', 'large', 'major', name='disputescale', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('category', sa.Enum('family', 'neighbour', 'land', 'property', 'contract', 'labour', 'damages', 'demolition', 'environment', 'medical', 'business', 'other', name='disputecategory', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('people_count', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('level', sa.Enum('village', 'town', 'county', name='mediationlevel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('body', sa.String(length=100), nullable=False),
    sa.Column('body_region_code', sa.String(length=12), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('registered', 'mediating', 'resolved', 'failed', 'closed', name='disputestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('agreement', sa.Text(), nullable=False),
    sa.Column('assessment', sa.String(length=200), nullable=False),
    sa.Column('criminal_risk', sa.Boolean(), nullable=False),
    sa.Column('criminal_risk_note', sa.String(length=500), nullable=False),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('followed_up_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_disputes_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mediator_id'], ['staff.id'], name=op.f('fk_disputes_mediator_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['staff.id'], name=op.f('fk_disputes_registered_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
    sa.UniqueConstraint('client_key', name=op.f('uq_disputes_client_key')),
    sa.UniqueConstraint('code', name=op.f('uq_disputes_code'))
    )
    op.create_index(op.f('ix_disputes_area_code'), 'disputes', ['area_code'], unique=False)
    op.create_index(op.f('ix_disputes_body_region_code'), 'disputes', ['body_region_code'], unique=False)
    op.create_index(op.f('ix_disputes_deadline'), 'disputes', ['deadline'], unique=False)
    op.create_index(op.f('ix_disputes_grid_id'), 'disputes', ['grid_id'], unique=False)
    op.create_index(op.f('ix_disputes_mediator_id'), 'disputes', ['mediator_id'], unique=False)
    op.create_table('reception_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['leader_id'], ['staff.id'], name=op.f('fk_reception_days_leader_id_staff'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_days'))
    )
    op.create_index(op.f('ix_reception_days_leader_id'), 'reception_days', ['leader_id'], unique=False)
    op.create_index(op.f('ix_reception_days_on'), 'reception_days', ['on'], unique=False)
    op.create_index(op.f('ix_reception_days_region_code'), 'reception_days', ['region_code'], unique=False)
    op.create_table('mediation_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('mediator_name', sa.String(length=50), nullable=False),
    sa.Column('attendees', sa.String(length=300), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_mediation_sessions_dispute_id_disputes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mediator_id'], ['staff.id'], name=op.f('fk_mediation_sessions_mediator_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_sessions'))
    )
    op.create_index(op.f('ix_mediation_sessions_dispute_id'), 'mediation_sessions', ['dispute_id'], unique=False)
    op.create_table('dispute_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=120), nullable=False),
    sa.Column('id_number_index', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_parties_dispute_id_disputes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_dispute_parties_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_parties'))
    )
    op.create_index(op.f('ix_dispute_parties_dispute_id'), 'dispute_parties', ['dispute_id'], unique=False)
    op.create_index(op.f('ix_dispute_parties_id_number_index'), 'dispute_parties', ['id_number_index'], unique=False)
    op.create_index(op.f('ix_dispute_parties_resident_id'), 'dispute_parties', ['resident_id'], unique=False)
    op.create_table('petitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('form', sa.Enum('letter', 'visit', 'online', name='petitionform', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('petitioner_name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=120), nullable=False),
    sa.Column('id_number_index', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('phone_index', sa.String(length=40), nullable=False),
    sa.Column('people_count', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('received', 'not_accepted', 'accepted', 'answered', 'closed', name='petitionstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('accept_due_on', sa.Date(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('handle_due_on', sa.Date(), nullable=True),
    sa.Column('extended_days', sa.Integer(), nullable=False),
    sa.Column('extension_reason', sa.String(length=500), nullable=False),
    sa.Column('extension_approved_by_id', sa.Integer(), nullable=True),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('reception_day_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('closed_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_petitions_department_id_departments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['extension_approved_by_id'], ['staff.id'], name=op.f('fk_petitions_extension_approved_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['leader_id'], ['staff.id'], name=op.f('fk_petitions_leader_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reception_day_id'], ['reception_days.id'], name=op.f('fk_petitions_reception_day_id_reception_days'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['staff.id'], name=op.f('fk_petitions_registered_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_petitions_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petitions')),
    sa.UniqueConstraint('client_key', name=op.f('uq_petitions_client_key')),
    sa.UniqueConstraint('code', name=op.f('uq_petitions_code'))
    )
    op.create_index(op.f('ix_petitions_accept_due_on'), 'petitions', ['accept_due_on'], unique=False)
    op.create_index(op.f('ix_petitions_area_code'), 'petitions', ['area_code'], unique=False)
    op.create_index(op.f('ix_petitions_handle_due_on'), 'petitions', ['handle_due_on'], unique=False)
    op.create_index(op.f('ix_petitions_id_number_index'), 'petitions', ['id_number_index'], unique=False)
    op.create_index(op.f('ix_petitions_leader_id'), 'petitions', ['leader_id'], unique=False)
    op.create_index(op.f('ix_petitions_phone_index'), 'petitions', ['phone_index'], unique=False)
    op.create_index(op.f('ix_petitions_region_code'), 'petitions', ['region_code'], unique=False)
    op.create_index(op.f('ix_petitions_resident_id'), 'petitions', ['resident_id'], unique=False)
    op.create_table('volunteers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('phone_index', sa.String(length=40), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('skills', sa.String(length=200), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_volunteers_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_volunteers_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['volunteer_teams.id'], name=op.f('fk_volunteers_team_id_volunteer_teams'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteers'))
    )
    op.create_index(op.f('ix_volunteers_area_code'), 'volunteers', ['area_code'], unique=False)
    op.create_index(op.f('ix_volunteers_grid_id'), 'volunteers', ['grid_id'], unique=False)
    op.create_index(op.f('ix_volunteers_phone_index'), 'volunteers', ['phone_index'], unique=False)
    op.create_index(op.f('ix_volunteers_team_id'), 'volunteers', ['team_id'], unique=False)
    op.create_table('household_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('linker_name', sa.String(length=50), nullable=False),
    sa.Column('linker_phone', sa.String(length=120), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_household_links_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_household_links_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_household_links_volunteer_id_volunteers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_links'))
    )
    op.create_index(op.f('ix_household_links_area_code'), 'household_links', ['area_code'], unique=False)
    op.create_index(op.f('ix_household_links_grid_id'), 'household_links', ['grid_id'], unique=False)
    op.create_table('volunteer_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['volunteer_activities.id'], name=op.f('fk_volunteer_hours_activity_id_volunteer_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_volunteer_hours_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_hours')),
    sa.UniqueConstraint('activity_id', 'volunteer_id', name='uq_volunteer_hours_once')
    )
    op.create_index(op.f('ix_volunteer_hours_activity_id'), 'volunteer_hours', ['activity_id'], unique=False)
    op.create_index(op.f('ix_volunteer_hours_volunteer_id'), 'volunteer_hours', ['volunteer_id'], unique=False)
    op.create_table('household_link_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['house_id'], ['houses.id'], name=op.f('fk_household_link_contacts_house_id_houses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['household_links.id'], name=op.f('fk_household_link_contacts_link_id_household_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_link_contacts'))
    )
    op.create_index(op.f('ix_household_link_contacts_house_id'), 'household_link_contacts', ['house_id'], unique=False)
    op.create_index(op.f('ix_household_link_contacts_link_id'), 'household_link_contacts', ['link_id'], unique=False)
    op.create_table('household_link_houses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['house_id'], ['houses.id'], name=op.f('fk_household_link_houses_house_id_houses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['household_links.id'], name=op.f('fk_household_link_houses_link_id_household_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_link_houses')),
    sa.UniqueConstraint('house_id', name=op.f('uq_household_link_houses_house_id'))
    )
    op.create_index(op.f('ix_household_link_houses_link_id'), 'household_link_houses', ['link_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_household_link_houses_link_id'), table_name='household_link_houses')
    op.drop_table('household_link_houses')
    op.drop_index(op.f('ix_household_link_contacts_link_id'), table_name='household_link_contacts')
    op.drop_index(op.f('ix_household_link_contacts_house_id'), table_name='household_link_contacts')
    op.drop_table('household_link_contacts')
    op.drop_index(op.f('ix_volunteer_hours_volunteer_id'), table_name='volunteer_hours')
    op.drop_index(op.f('ix_volunteer_hours_activity_id'), table_name='volunteer_hours')
    op.drop_table('volunteer_hours')
    op.drop_index(op.f('ix_household_links_grid_id'), table_name='household_links')
    op.drop_index(op.f('ix_household_links_area_code'), table_name='household_links')
    op.drop_table('household_links')
    op.drop_index(op.f('ix_volunteers_team_id'), table_name='volunteers')
    op.drop_index(op.f('ix_volunteers_phone_index'), table_name='volunteers')
    op.drop_index(op.f('ix_volunteers_grid_id'), table_name='volunteers')
    op.drop_index(op.f('ix_volunteers_area_code'), table_name='volunteers')
    op.drop_table('volunteers')
    op.drop_index(op.f('ix_petitions_resident_id'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_region_code'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_phone_index'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_leader_id'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_id_number_index'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_handle_due_on'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_area_code'), table_name='petitions')
    op.drop_index(op.f('ix_petitions_accept_due_on'), table_name='petitions')
    op.drop_table('petitions')
    op.drop_index(op.f('ix_dispute_parties_resident_id'), table_name='dispute_parties')
    op.drop_index(op.f('ix_dispute_parties_id_number_index'), table_name='dispute_parties')
    op.drop_index(op.f('ix_dispute_parties_dispute_id'), table_name='dispute_parties')
    op.drop_table('dispute_parties')
    op.drop_index(op.f('ix_mediation_sessions_dispute_id'), table_name='mediation_sessions')
    op.drop_table('mediation_sessions')
    op.drop_index(op.f('ix_reception_days_region_code'), table_name='reception_days')
    op.drop_index(op.f('ix_reception_days_on'), table_name='reception_days')
    op.drop_index(op.f('ix_reception_days_leader_id'), table_name='reception_days')
    op.drop_table('reception_days')
    op.drop_index(op.f('ix_disputes_mediator_id'), table_name='disputes')
    op.drop_index(op.f('ix_disputes_grid_id'), table_name='disputes')
    op.drop_index(op.f('ix_disputes_deadline'), table_name='disputes')
    op.drop_index(op.f('ix_disputes_body_region_code'), table_name='disputes')
    op.drop_index(op.f('ix_disputes_area_code'), table_name='disputes')
    op.drop_table('disputes')
    op.drop_index('ix_case_events_case', table_name='case_events')
    op.drop_table('case_events')
    op.drop_index(op.f('ix_volunteer_activities_team_id'), table_name='volunteer_activities')
    op.drop_index(op.f('ix_volunteer_activities_on'), table_name='volunteer_activities')
    op.drop_index(op.f('ix_volunteer_activities_area_code'), table_name='volunteer_activities')
    op.drop_table('volunteer_activities')
    op.drop_index(op.f('ix_volunteer_teams_area_code'), table_name='volunteer_teams')
    op.drop_table('volunteer_teams')
